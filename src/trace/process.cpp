#include "retrace/trace/process.hpp"

#include "attrs.hpp"

namespace retrace::trace {

using core::Json;

namespace {

// The attribute names, in one place (docs/store-format.md, "Events").
constexpr const char* k_argv = "argv";
constexpr const char* k_exit_code = "exit_code";
constexpr const char* k_signal = "signal";
constexpr const char* k_stdout = "stdout";
constexpr const char* k_stderr = "stderr";
constexpr const char* k_stdout_bytes = "stdout_bytes";
constexpr const char* k_stderr_bytes = "stderr_bytes";
constexpr const char* k_determinism = "determinism";
constexpr const char* k_layout = "layout";
constexpr std::string_view k_fixed = "fixed";
constexpr std::string_view k_randomized = "randomized: ";

std::size_t size(const Json& a, const char* key) {
    long long n = attrs::integer(a, key).value_or(0);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace

Json ProcessRecord::to_attrs() const {
    Json a = {{k_argv, argv},
              {k_signal, signal},
              {k_stdout, stdout_digest},
              {k_stderr, stderr_digest},
              {k_stdout_bytes, stdout_bytes},
              {k_stderr_bytes, stderr_bytes}};
    if (exit_code) a[k_exit_code] = *exit_code;
    if (determinism) a[k_determinism] = *determinism;
    if (layout) a[k_layout] = *layout;
    return a;
}

core::Event ProcessRecord::to_event(long long seq, std::string name, long long start_ns,
                                    long long end_ns) const {
    core::Event e;
    e.seq = seq;
    e.kind = core::EventKind::process;
    e.name = std::move(name);
    e.start_ns = start_ns;
    e.end_ns = end_ns;
    e.attrs = to_attrs();
    return e;
}

std::string ProcessRecord::layout_of(const std::string& refusal) {
    return refusal.empty() ? std::string(k_fixed) : std::string(k_randomized) + refusal;
}

std::optional<std::string> ProcessRecord::layout_refusal() const {
    if (!layout || !layout->starts_with(k_randomized)) return std::nullopt;
    return layout->substr(k_randomized.size());
}

ProcessRecord ProcessRecord::from_attrs(const Json& a) {
    ProcessRecord p;
    if (!a.is_object()) return p;
    if (auto it = a.find(k_argv); it != a.end() && it->is_array())
        for (const auto& arg : *it)
            if (arg.is_string()) p.argv.push_back(arg.get<std::string>());
    p.exit_code = attrs::integer(a, k_exit_code);
    p.signal = static_cast<int>(attrs::integer(a, k_signal).value_or(0));
    p.stdout_digest = attrs::text(a, k_stdout);
    p.stderr_digest = attrs::text(a, k_stderr);
    p.stdout_bytes = size(a, k_stdout_bytes);
    p.stderr_bytes = size(a, k_stderr_bytes);
    if (auto it = a.find(k_determinism); it != a.end()) p.determinism = *it;
    if (auto it = a.find(k_layout); it != a.end() && it->is_string())
        p.layout = it->get<std::string>();
    return p;
}

}  // namespace retrace::trace
