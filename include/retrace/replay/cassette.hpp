// The cassette: the recorded exchanges of a run, as `replay` serves them,
// and the recorded answers of its SDK events (tool calls, retrievals, clock
// reads, random draws, checkpoints: docs/event-api.md).
//
// Each recorded request is filed under its match digest (core/matching.hpp)
// in a queue in order of issue; a replayed request takes the head of its
// queue. Events are filed the same way, by kind, name and input. Lookups cost one hash and one map
// probe whatever the size of the recording. What did not match is kept as a divergence, with the
// nearest recorded request and a JSON-path diff.
#pragma once

#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "retrace/core/event_kind.hpp"
#include "retrace/core/matching.hpp"
#include "retrace/replay/answer_source.hpp"
#include "retrace/store/store.hpp"
#include "retrace/trace/divergence.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::replay {

// When a recorded answer is sent at its recorded timing (header and frames
// at their offsets) rather than at once.
enum class Pace {
    fast,       // --pace fast: never
    automatic,  // --pace auto (default): when the recorded client's timing mattered (it left)
    recorded,   // --pace recorded: always
};

struct ReplayPolicy {
    bool on_miss_live = false;       // --on-miss live: forward misses upstream
    bool reuse = false;              // --reuse: an exhausted queue repeats its last answer
    Pace pace = Pace::automatic;     // --pace
    std::optional<long long> until;  // --until N: exchanges after N are not served (a fork)
    bool live_tools = false;  // --live-tools: SDK events after --until N (or missed) run live
    std::map<long long, std::string> overrides;  // --override N=FILE: event N's new body
    std::vector<core::JsonPath> ignore;          // --ignore JSONPATH
    // Served answers kept in memory for serving again (Cassette::answer).
    std::size_t answer_cache_bytes = std::size_t{64} << 20;
};

struct RecordedExchange {
    long long seq = 0;
    std::string route, method, path, query;
    std::vector<std::pair<std::string, std::string>> request_headers;  // as stored
    std::string request_body;  // as stored (after any --redact)
    int status = 0;
    core::Json response_headers = core::Json::object();
    // The answer's body is read from the store when it is served
    // (Cassette::answer); one given by --override is held here instead.
    std::shared_ptr<const std::string> override_body;
    std::string response_digest;  // of the body as stored; "" when --override replaced it
    std::vector<std::pair<long long, std::size_t>> chunks;  // offset us, bytes
    bool truncated = false;
    std::optional<long long> header_us;                   // when its header arrived
    std::optional<trace::ClientCancel> client_cancelled;  // the recorded client left first
    std::optional<long long> received_ns;                 // when the request reached the machine
    std::string match;                                    // match digest

    std::string label() const;  // "#3 POST /openai/chat/completions"
};

// An SDK event's recorded answer.
struct RecordedEvent {
    long long seq = 0;
    core::EventKind kind = core::EventKind::custom;
    std::string name;
    std::string input;   // canonical JSON text, as stored
    std::string output;  // canonical JSON text, as stored; "" when none
    core::Json error;    // null, or {"type": ..., "message": ...}
    std::string match;   // match digest

    std::string label() const;  // "#4 tool get_time"
};

// The match request of an SDK event: its kind, name and input.
core::MatchRequest event_match_request(core::EventKind kind, std::string_view name,
                                       std::string_view input);

// The answer source of a replay (replay/answer_source.hpp): answers from
// one recording, under the replay's policy.
class Cassette final : public AnswerSource {
  public:
    // Loads the llm and http events of run_id. secret keys match digests.
    // The recorded answers' bodies stay in the store until served, read
    // through a connection of the cassette's own (store.connect()).
    static Result<std::unique_ptr<Cassette>> load(store::Store& store, const std::string& run_id,
                                                  std::string secret, ReplayPolicy policy);
    // The same from the run's events, already read (store.events(run_id)).
    static Result<std::unique_ptr<Cassette>> load(store::Store& store, const std::string& run_id,
                                                  const std::vector<store::EventRow>& events,
                                                  std::string secret, ReplayPolicy policy);

    const ReplayPolicy& policy() const { return m_policy; }
    const std::string& run_id() const { return m_run_id; }

    // AnswerSource. A request is answered by the head of its digest's queue;
    // when the queue is empty (or --until left it out), it is forwarded live
    // under --on-miss live or --until, else refused with a divergence. An
    // SDK call likewise, run live only under --live-tools with --until or
    // --on-miss live.
    bool replaying() const override { return true; }
    std::string digest_of(const core::MatchRequest& request) const override;
    std::string event_digest(core::EventKind kind, std::string_view name,
                             std::string_view input) const override;
    ExchangeAnswer answer(const core::MatchRequest& request, const std::string& digest) override;
    EventAnswer answer_event(core::EventKind kind, std::string_view name, std::string_view input,
                             const std::string& digest, bool can_run_live) override;
    bool paced(const RecordedExchange& x) const override;
    // The recorded exchanges of a digest are queued in the order their
    // requests reached the machine (received_ns: the order the program
    // wrote them in, which the proxy's threads may not have kept), else in
    // order of issue (older recordings). Order matters while answers are
    // left, unless --reuse would give the last one again to all.
    bool order_matters(const std::string& digest) const override;

    // The next recorded answer for this digest, or nullptr. Thread safe.
    const RecordedExchange* take(const std::string& digest);
    // The body of x's recorded answer (x taken from this cassette). Read
    // from the store at its serving; the most recently served are kept, up
    // to policy().answer_cache_bytes, for answers served again (--reuse,
    // repeated identical answers). Thread safe. corrupt when the store no
    // longer has it (also kept as a divergence).
    Result<std::shared_ptr<const std::string>> body_of(const RecordedExchange& x) override;
    std::size_t cached_answer_bytes() const;
    // Explains why request (whose digest found nothing) diverged, and keeps it.
    trace::Divergence diverge(const core::MatchRequest& request, const std::string& digest);

    // The same for SDK events: input is the event's input as JSON text.
    const RecordedEvent* take_event(const std::string& digest);

    // The k-th recorded answer (from 0, in the order take() gives them) for
    // a digest, or nullptr; nothing is taken. For a source that chooses
    // between recordings (replay/blend.hpp).
    const RecordedExchange* exchange_at(const std::string& digest, std::size_t k) const;
    const RecordedEvent* event_at(const std::string& digest, std::size_t k) const;
    // Every digest with the number of answers recorded for it.
    std::vector<std::pair<std::string, std::size_t>> exchange_digests() const;
    std::vector<std::pair<std::string, std::size_t>> event_digests() const;
    trace::Divergence diverge_event(core::EventKind kind, std::string_view name,
                                    std::string_view input, const std::string& digest);

    std::vector<trace::Divergence> divergences() const;
    // Labels of the recorded exchanges (up to --until) and events that no
    // request took, in recorded order.
    std::vector<std::string> unused() const;
    std::size_t size() const { return m_exchanges.size() + m_events.size(); }
    // The route names the recorded exchanges went through.
    std::set<std::string> routes() const;

  private:
    template <class T>
    struct Queue {
        std::vector<const T*> items;
        std::size_t next = 0;
    };
    static void order_by_arrival(Queue<RecordedExchange>& q);
    Status load_event(store::Store& store, const core::Event& e,
                      std::map<long long, std::string>& overrides);
    template <class T>
    const T* take_from(std::unordered_map<std::string, Queue<T>>& queues,
                       const std::string& digest);
    trace::Divergence diverge_from_nearest(
        trace::Divergence d, std::string_view body,
        const std::vector<std::pair<long long, const std::string*>>& candidates);
    std::string m_run_id;
    std::string m_secret;
    ReplayPolicy m_policy;
    std::deque<RecordedExchange> m_exchanges;  // stable addresses
    std::unordered_map<std::string, Queue<RecordedExchange>> m_queues;
    std::deque<RecordedEvent> m_events;
    std::unordered_map<std::string, Queue<RecordedEvent>> m_event_queues;
    mutable std::mutex m_mutex;
    std::vector<trace::Divergence> m_divergences;

    std::mutex m_reader_mutex;               // a Store is used by one thread at a time
    std::unique_ptr<store::Store> m_reader;  // where answers are read from
    struct CachedAnswer {
        std::shared_ptr<const std::string> body;
        std::list<std::string>::iterator age;
    };
    mutable std::mutex m_cache_mutex;                       // guards the members below
    std::unordered_map<std::string, CachedAnswer> m_cache;  // by blob digest
    std::list<std::string> m_cache_ages;                    // most recently served first
    std::size_t m_cache_bytes = 0;
};

}  // namespace retrace::replay
