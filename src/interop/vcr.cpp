#include "retrace/interop/vcr.hpp"

#include <yaml-cpp/yaml.h>

#include "retrace/core/base64.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::interop {

namespace {

constexpr const char* k_binary_tag = "tag:yaml.org,2002:binary";

std::string line_of(const YAML::Node& node) {
    return "line " + std::to_string(node.Mark().line + 1);
}

// parent[key], or an undefined node when parent is not a mapping or has no
// such key. (yaml-cpp's const lookup of a missing key gives a node that
// throws on every question but IsDefined.)
YAML::Node child(const YAML::Node& parent, const char* key) {
    if (!parent.IsDefined() || !parent.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node n = parent[key];
    return n.IsDefined() ? n : YAML::Node(YAML::NodeType::Undefined);
}

struct Interaction {
    const YAML::Node& node;
    std::string where;

    Status bad(const YAML::Node& at, const std::string& field, const char* what) const {
        std::string line = at.IsDefined() && !at.Mark().is_null() ? " (" + line_of(at) + ")" : "";
        return error(ErrorCode::invalid_input, where + line + ": " + field + " " + what);
    }
    Result<YAML::Node> map(const YAML::Node& parent, const char* key,
                           const std::string& field) const {
        YAML::Node n = child(parent, key);
        if (!n.IsDefined() || !n.IsMap())
            return bad(n.IsDefined() ? n : parent, field, "must be a mapping");
        return n;
    }
    Result<std::string> scalar(const YAML::Node& parent, const char* key,
                               const std::string& field) const {
        YAML::Node n = child(parent, key);
        if (!n.IsDefined() || !n.IsScalar())
            return bad(n.IsDefined() ? n : parent, field, "must be a string");
        return n.Scalar();
    }
    // A body: a string, null, or !!binary (vcrpy writes bytes so).
    Result<std::string> body(const YAML::Node& n, const std::string& field) const {
        if (!n.IsDefined() || n.IsNull()) return std::string();
        if (!n.IsScalar()) return bad(n, field, "must be a string, null or !!binary");
        if (n.Tag() == k_binary_tag || n.Tag() == "!!binary") {
            std::string text;
            for (char c : n.Scalar())
                if (!std::isspace(static_cast<unsigned char>(c))) text.push_back(c);
            auto raw = core::unbase64(text);
            if (!raw) return bad(n, field, "is !!binary but not base64");
            return std::move(*raw);
        }
        return n.Scalar();
    }
    // {Name: [value, ...]} (vcrpy), or {Name: value}.
    Result<Headers> headers(const YAML::Node& parent, const std::string& field) const {
        YAML::Node n = child(parent, "headers");
        Headers out;
        if (!n.IsDefined() || n.IsNull()) return out;
        if (!n.IsMap()) return bad(n, field + ".headers", "must be a mapping");
        for (const auto& kv : n) {
            if (!kv.first.IsScalar())
                return bad(kv.first, field + ".headers", "has a non-string name");
            const std::string& name = kv.first.Scalar();
            if (kv.second.IsScalar()) {
                out.emplace_back(name, kv.second.Scalar());
            } else if (kv.second.IsSequence()) {
                for (const auto& v : kv.second) {
                    if (!v.IsScalar())
                        return bad(v, field + ".headers." + name, "must list strings");
                    out.emplace_back(name, v.Scalar());
                }
            } else {
                return bad(kv.second, field + ".headers." + name, "must be a string or a list");
            }
        }
        return out;
    }
};

Result<ForeignExchange> read_interaction(const YAML::Node& node, std::size_t index) {
    Interaction r{node, "interaction " + std::to_string(index + 1)};
    if (!node.IsMap()) return r.bad(node, "it", "must be a mapping");
    ForeignExchange x;
    x.where = r.where;
    RETRACE_ASSIGN(auto request, r.map(node, "request", "request"));
    RETRACE_ASSIGN(x.method, r.scalar(request, "method", "request.method"));
    RETRACE_ASSIGN(x.url, r.scalar(request, "uri", "request.uri"));
    RETRACE_ASSIGN(x.request_body, r.body(child(request, "body"), "request.body"));
    RETRACE_ASSIGN(x.request_headers, r.headers(request, "request"));
    RETRACE_ASSIGN(auto response, r.map(node, "response", "response"));
    RETRACE_ASSIGN(auto status, r.map(response, "status", "response.status"));
    YAML::Node code = child(status, "code");
    try {
        if (!code.IsDefined() || !code.IsScalar())
            throw YAML::Exception(YAML::Mark::null_mark(), "");
        x.status = code.as<int>();
    } catch (const YAML::Exception&) {
        return r.bad(code.IsDefined() ? code : status, "response.status.code",
                     "must be an integer");
    }
    if (x.status < 100 || x.status > 599)
        return r.bad(code, "response.status.code", "must be an HTTP status (100 to 599)");
    YAML::Node body = child(response, "body");
    if (body.IsDefined() && body.IsMap()) {
        RETRACE_ASSIGN(x.response_body, r.body(child(body, "string"), "response.body.string"));
    } else {
        RETRACE_ASSIGN(x.response_body, r.body(body, "response.body"));
    }
    RETRACE_ASSIGN(x.response_headers, r.headers(response, "response"));
    return x;
}

void emit_headers(YAML::Emitter& out, const core::Json& headers) {
    out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : headers.items())
        if (k != "host")  // where the program sent it (retrace's port), not the URL's host
            out << YAML::Key << k << YAML::Value << YAML::BeginSeq << YAML::DoubleQuoted
                << (v.is_string() ? v.get<std::string>() : v.dump()) << YAML::EndSeq;
    out << YAML::EndMap;
}

void emit_body(YAML::Emitter& out, const std::string& body) {
    if (core::is_utf8(body))
        out << YAML::DoubleQuoted << body;
    else
        out << YAML::Binary(reinterpret_cast<const unsigned char*>(body.data()), body.size());
}

}  // namespace

Result<ExchangeFile> parse_vcr(std::string_view text) {
    YAML::Node doc;
    try {
        doc = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
        return error(ErrorCode::invalid_input, "line " + std::to_string(e.mark.line + 1) +
                                                   ", column " + std::to_string(e.mark.column + 1) +
                                                   ": " + e.msg);
    } catch (const YAML::Exception& e) {
        return error(ErrorCode::invalid_input, e.what());
    }
    if (!doc.IsDefined() || !doc.IsMap())
        return error(ErrorCode::invalid_input, "not a mapping: not a vcrpy cassette");
    YAML::Node interactions = child(doc, "interactions");
    if (!interactions.IsDefined() || !interactions.IsSequence())
        return error(ErrorCode::invalid_input, "no 'interactions' list: not a vcrpy cassette");
    if (YAML::Node version = child(doc, "version");
        version.IsDefined() && !(version.IsScalar() && version.Scalar() == "1"))
        return error(ErrorCode::invalid_input,
                     "cassette version " +
                         (version.IsScalar() ? version.Scalar() : "(not a number)") +
                         " (retrace reads vcrpy's version 1)");
    ExchangeFile file;
    file.format = "vcr";
    try {
        for (std::size_t i = 0; i < interactions.size(); ++i) {
            RETRACE_ASSIGN(auto x, read_interaction(interactions[i], i));
            file.exchanges.push_back(std::move(x));
        }
    } catch (const YAML::Exception& e) {  // a shape the checks above did not foresee
        return error(ErrorCode::invalid_input,
                     "interaction " + std::to_string(file.exchanges.size() + 1) + ": " + e.what());
    }
    return file;
}

Result<std::string> vcr_of_run(store::Store& store, const std::string& run_id) {
    RETRACE_ASSIGN(auto rows, store.events(run_id));
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "interactions" << YAML::Value << YAML::BeginSeq;
    for (const auto& row : rows) {
        const auto& e = row.event;
        if (!core::is_exchange(e.kind)) continue;
        auto x = trace::Exchange::from_attrs(e.attrs);
        if (x.divergence || x.status == 0) continue;  // no answer from the server to play
        RETRACE_ASSIGN(auto request, store.get_blob(e.request));
        RETRACE_ASSIGN(auto response, store.get_blob(e.response));
        out << YAML::BeginMap;
        out << YAML::Key << "request" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "body" << YAML::Value;
        if (request && !request->empty())
            emit_body(out, *request);
        else
            out << YAML::Null;
        emit_headers(out, x.request_headers);
        out << YAML::Key << "method" << YAML::Value << x.method;
        out << YAML::Key << "uri" << YAML::Value << export_url(x.route, x.path, x.query);
        out << YAML::EndMap;
        out << YAML::Key << "response" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "body" << YAML::Value << YAML::BeginMap << YAML::Key << "string"
            << YAML::Value;
        emit_body(out, response ? *response : std::string());
        out << YAML::EndMap;
        emit_headers(out, x.response_headers);
        out << YAML::Key << "status" << YAML::Value << YAML::BeginMap << YAML::Key << "code"
            << YAML::Value << x.status << YAML::Key << "message" << YAML::Value
            << (x.status < 400 ? "OK" : "Error") << YAML::EndMap;
        out << YAML::EndMap;
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::Key << "version" << YAML::Value << 1 << YAML::EndMap;
    if (!out.good()) return error(ErrorCode::internal, "cassette: " + out.GetLastError());
    return std::string(out.c_str()) + "\n";
}

}  // namespace retrace::interop
