// Numbers the requests the proxy receives (an event's seq: the order of
// issue) and takes each one's answer from the answer source, in one step,
// so that identical requests get their recorded answers in the order they
// are numbered.
//
// Which request is first is decided by when it reached the machine, not by
// which I/O thread took it up first. A program can send identical requests
// at once (Promise.all of one call), each on a connection of its own;
// which of them a proxy with several I/O threads takes up first is a race,
// so a replay that answered them in that order could hand the program's
// first request the answer its second got. The order the program wrote
// them in is kept by the kernel, which stamps each request as it arrives
// (received_ns, net/receive_time.hpp): the cassette queues a recording's
// identical requests in that order, and a replayed request whose answer
// depends on its place (AnswerSource::order_matters) is numbered only when
// no request that reached the machine before it is still unread on its
// connection (AsyncServer::unread_before) or read but not yet numbered
// (pending here).
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "retrace/core/matching.hpp"
#include "retrace/replay/answer_source.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::proxy {

class RequestOrder {
  public:
    // answers outlives this.
    explicit RequestOrder(replay::AnswerSource& answers);

    // A request from when the kernel's receive time of its first byte is
    // known until it is numbered (or the connection gives up on it). Taken
    // before the request's bytes are read, so a request is always either
    // unread on its connection or pending.
    class Pending {
      public:
        Pending() = default;
        Pending(RequestOrder& order, long long received_ns);
        Pending(Pending&& other) noexcept;
        Pending& operator=(Pending&& other) noexcept;
        ~Pending() { done(); }
        std::optional<long long> received_ns() const { return m_received_ns; }
        void done();

      private:
        RequestOrder* m_order = nullptr;
        std::optional<long long> m_received_ns;
    };

    // Whether a request that reached the machine before received_ns is
    // pending. Thread safe.
    bool pending_before(long long received_ns) const;

    // Whether a request must wait for the requests that reached the
    // machine before it: its place decides its answer. Thread safe.
    bool waits(const std::string& digest, std::optional<long long> received_ns) const;

    struct Numbered {
        long long seq = 0;
        replay::ExchangeAnswer answer;  // forward when not answerable
    };
    // Numbers the request in writer's run and, when answerable (a known
    // route, a body retrace reads), takes its answer; ends its pending.
    // Thread safe.
    Numbered number(store::RunWriter& writer, const core::MatchRequest& match,
                    const std::string& digest, bool answerable, Pending& pending);

  private:
    replay::AnswerSource& m_answers;
    std::mutex m_numbering;  // a request is numbered and answered in one step
    mutable std::mutex m_mutex;
    std::multiset<long long> m_pending;  // receive times
};

}  // namespace retrace::proxy
