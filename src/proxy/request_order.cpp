#include "retrace/proxy/request_order.hpp"

#include <utility>

namespace retrace::proxy {

RequestOrder::RequestOrder(replay::AnswerSource& answers) : m_answers(answers) {}

RequestOrder::Pending::Pending(RequestOrder& order, long long received_ns)
    : m_order(&order), m_received_ns(received_ns) {
    std::lock_guard lock(order.m_mutex);
    order.m_pending.insert(received_ns);
}

RequestOrder::Pending::Pending(Pending&& other) noexcept
    : m_order(std::exchange(other.m_order, nullptr)), m_received_ns(other.m_received_ns) {}

RequestOrder::Pending& RequestOrder::Pending::operator=(Pending&& other) noexcept {
    if (this != &other) {
        done();
        m_order = std::exchange(other.m_order, nullptr);
        m_received_ns = other.m_received_ns;
    }
    return *this;
}

void RequestOrder::Pending::done() {
    if (!m_order) return;
    std::lock_guard lock(m_order->m_mutex);
    m_order->m_pending.erase(m_order->m_pending.find(*m_received_ns));
    m_order = nullptr;
}

bool RequestOrder::pending_before(long long received_ns) const {
    std::lock_guard lock(m_mutex);
    return !m_pending.empty() && *m_pending.begin() < received_ns;
}

bool RequestOrder::waits(const std::string& digest, std::optional<long long> received_ns) const {
    return received_ns && m_answers.replaying() && m_answers.order_matters(digest);
}

RequestOrder::Numbered RequestOrder::number(store::RunWriter& writer,
                                            const core::MatchRequest& match,
                                            const std::string& digest, bool answerable,
                                            Pending& pending) {
    Numbered n;
    {
        std::lock_guard lock(m_numbering);
        n.seq = writer.next_seq();
        if (answerable) n.answer = m_answers.answer(match, digest);
    }
    pending.done();
    return n;
}

}  // namespace retrace::proxy
