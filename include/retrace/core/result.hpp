// Error handling for library code: functions return Status or Result<T>.
// Exceptions from third-party libraries are caught at module boundaries and
// turned into a Status; main() turns a Status into one line and an exit code.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace retrace {

enum class ErrorCode {
    ok,
    invalid_input,  // malformed user input, bad arguments, unknown reference (exit 2)
    not_found,      // a named thing does not exist (exit 2)
    corrupt,        // stored data fails an integrity check (exit 1 from verify, 2 elsewhere)
    io,             // the operating system refused (exit 2, or 125 before a child starts)
    busy,           // the store stayed locked past the busy timeout
    denied,         // the caller may not do this (another credential's run)
    internal,       // a bug in retrace
};

class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(ErrorCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    static Status ok() { return {}; }
    bool is_ok() const { return m_code == ErrorCode::ok; }
    explicit operator bool() const { return is_ok(); }
    ErrorCode code() const { return m_code; }
    const std::string& message() const { return m_message; }

    // Prefixes context ("store /x: ...") while keeping the code.
    Status with_context(const std::string& context) const {
        return is_ok() ? *this : Status(m_code, context + ": " + m_message);
    }

  private:
    ErrorCode m_code = ErrorCode::ok;
    std::string m_message;
};

inline Status error(ErrorCode code, std::string message) {
    return {code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : m_value(std::move(value)) {}         // NOLINT: implicit by design
    Result(Status status) : m_value(std::move(status)) {}  // NOLINT: must not be ok

    bool is_ok() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return is_ok(); }
    const Status& status() const {
        static const Status ok_status;
        return is_ok() ? ok_status : std::get<Status>(m_value);
    }
    T& value() & { return std::get<T>(m_value); }
    const T& value() const& { return std::get<T>(m_value); }
    T&& value() && { return std::get<T>(std::move(m_value)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

  private:
    std::variant<T, Status> m_value;
};

}  // namespace retrace

// RETRACE_TRY(expr): return the Status of expr from the enclosing function if it failed.
#define RETRACE_TRY(expr)                                             \
    do {                                                              \
        auto retrace_try_status_ = (expr);                            \
        if (!retrace_try_status_.is_ok())                             \
            return ::retrace::detail::to_status(retrace_try_status_); \
    } while (0)

// RETRACE_ASSIGN(var, expr): declare var from a Result, or return its Status.
#define RETRACE_CONCAT_INNER(a, b) a##b
#define RETRACE_CONCAT(a, b) RETRACE_CONCAT_INNER(a, b)
#define RETRACE_ASSIGN(decl, expr) \
    RETRACE_ASSIGN_IMPL(RETRACE_CONCAT(retrace_result_, __LINE__), decl, expr)
#define RETRACE_ASSIGN_IMPL(tmp, decl, expr) \
    auto tmp = (expr);                       \
    if (!tmp.is_ok()) return tmp.status();   \
    decl = std::move(tmp).value()

namespace retrace::detail {
inline const Status& to_status(const Status& s) {
    return s;
}
template <typename T>
const Status& to_status(const Result<T>& r) {
    return r.status();
}
}  // namespace retrace::detail
