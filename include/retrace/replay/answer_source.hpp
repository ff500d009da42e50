// The answer seam: what answers a request the proxy received, or an SDK
// call the event API received. The proxy and the event API move bytes;
// the decision (forward it, serve a recorded answer, or refuse it with a
// divergence) is made here, behind one interface with one implementation
// per way of answering:
//
// - recording (recording_answers): every request is forwarded, every SDK
//   call is the program's own to make;
// - the cassette (replay/cassette.hpp): answers from one recording, with
//   the replay's policy (--on-miss live, --until, --override, --reuse).
//
// Unit tests drive a source without a socket (tests/unit/answer_source_test.cpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "retrace/core/event_kind.hpp"
#include "retrace/core/matching.hpp"
#include "retrace/core/result.hpp"
#include "retrace/trace/divergence.hpp"

namespace retrace::replay {

struct RecordedExchange;
struct RecordedEvent;

// How to answer one HTTP request.
struct ExchangeAnswer {
    enum class Action {
        forward,   // send it upstream and relay what comes back
        recorded,  // serve `recorded`
        diverge,   // refuse it, told why in `divergence`
    };
    Action action = Action::forward;
    const RecordedExchange* recorded = nullptr;  // owned by the source
    bool live = false;  // forwarded although replaying (marked `live` in the replay run)
    std::optional<trace::Divergence> divergence;
};

// How to answer one SDK call (a tool, a retrieval, a clock read ...).
struct EventAnswer {
    enum class Action {
        recorded,  // answer with `recorded`'s output or error
        live,      // the program makes the real call and reports its result
        diverge,   // refuse it, told why in `divergence`
    };
    Action action = Action::diverge;
    const RecordedEvent* recorded = nullptr;  // owned by the source
    std::optional<trace::Divergence> divergence;
};

class AnswerSource {
  public:
    virtual ~AnswerSource() = default;

    // Whether answers come from a recording (RETRACE_MODE=replay), so SDK
    // calls are asked of it (answer_event) rather than recorded.
    virtual bool replaying() const = 0;

    // The match digest of a request, and of an SDK call (core/matching.hpp),
    // under the store's secret and the replay's --ignore paths.
    virtual std::string digest_of(const core::MatchRequest& request) const = 0;
    virtual std::string event_digest(core::EventKind kind, std::string_view name,
                                     std::string_view input) const = 0;

    // Decides how to answer a request whose digest is `digest`. A recorded
    // answer is taken: it is not given again (unless --reuse). Thread safe.
    virtual ExchangeAnswer answer(const core::MatchRequest& request, const std::string& digest) = 0;
    // The same for an SDK call; `can_run_live` when the call opened a span
    // the program can end with the real call's result. Thread safe.
    virtual EventAnswer answer_event(core::EventKind kind, std::string_view name,
                                     std::string_view input, const std::string& digest,
                                     bool can_run_live) = 0;

    // Whether which of several identical requests gets which answer
    // matters: the recording holds answers for `digest` still to serve (two
    // identical requests sent at once would get different ones). The proxy
    // then numbers such a request only after every request that reached the
    // machine before it (proxy/request_order.hpp). Thread safe.
    virtual bool order_matters(const std::string& digest) const {
        (void)digest;
        return false;
    }

    // The body of a recorded answer this source gave (x came from answer()).
    // An error when the recording no longer holds it. Thread safe.
    virtual Result<std::shared_ptr<const std::string>> body_of(const RecordedExchange& x) = 0;
    // Whether a recorded answer's header and frames are sent at their
    // recorded offsets rather than at once (--pace; ReplayPolicy).
    virtual bool paced(const RecordedExchange& x) const = 0;
};

// Recording: forwards every request; replaying() is false, so SDK calls are
// recorded, never asked of it. `secret` keys the match digests.
std::unique_ptr<AnswerSource> recording_answers(std::string secret);

}  // namespace retrace::replay
