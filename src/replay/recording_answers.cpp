#include "retrace/replay/answer_source.hpp"

#include "retrace/replay/cassette.hpp"

namespace retrace::replay {

namespace {

class RecordingAnswers final : public AnswerSource {
  public:
    explicit RecordingAnswers(std::string secret) : m_secret(std::move(secret)) {}

    bool replaying() const override { return false; }
    std::string digest_of(const core::MatchRequest& request) const override {
        return core::match_digest(m_secret, request, {});
    }
    std::string event_digest(core::EventKind kind, std::string_view name,
                             std::string_view input) const override {
        return core::match_digest(m_secret, event_match_request(kind, name, input), {});
    }
    ExchangeAnswer answer(const core::MatchRequest&, const std::string&) override {
        return {ExchangeAnswer::Action::forward, nullptr, false, std::nullopt};
    }
    EventAnswer answer_event(core::EventKind, std::string_view, std::string_view,
                             const std::string&, bool) override {
        // (unreachable through the event API, which records while not replaying)
        return {EventAnswer::Action::live, nullptr, std::nullopt};
    }
    Result<std::shared_ptr<const std::string>> body_of(const RecordedExchange& x) override {
        return error(ErrorCode::internal,
                     "a recording has no recorded answer to give (" + x.label() + ")");
    }
    bool paced(const RecordedExchange&) const override { return false; }

  private:
    std::string m_secret;
};

}  // namespace

std::unique_ptr<AnswerSource> recording_answers(std::string secret) {
    return std::make_unique<RecordingAnswers>(std::move(secret));
}

}  // namespace retrace::replay
