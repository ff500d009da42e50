// The event API (proxy/event_api.cpp, proxy/otlp_ingest.cpp): what an
// SDK, an OpenTelemetry exporter, or any local process holding the token,
// posts to /_retrace/v1/. An input is a flag byte (bit 0: replay from a
// recording, else record; bit 1: shield divergences, as the gateway does;
// bits 2-3: the content type: JSON, protobuf, none, text), the path up to
// a newline, and the body. Properties: handle() never throws; every answer
// has a status of 200, 400, 404, 405, 409 or 415 and is one strict JSON
// document, but for OTLP protobuf's; a shielded answer never quotes a
// recorded input the request (its path or body) did not itself hold.
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz_support.hpp"
#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/replay/cassette.hpp"

using namespace retrace;
using core::Json;
using fuzz::require;

namespace {

// Marks what only the recording holds: the inputs of its events.
constexpr std::string_view k_recorded = "RECORDED-INPUT-7f3a";

struct World {
    test::TempDir dir;
    std::unique_ptr<store::Store> store = fuzz::open_store(dir.path() / "store");
    std::string secret = store->secret().value();
    core::Redactor redactor;
    std::string recording_id;
    std::unique_ptr<replay::Cassette> cassette;
    std::unique_ptr<store::RunWriter> writer;
    std::unique_ptr<proxy::SpanTable> spans;
    std::unique_ptr<conditions::TrafficFacts> facts;
    std::size_t inputs = 0;

    World() {
        record();
        renew();
    }

    // The recording the replays answer from.
    void record() {
        auto recording = fuzz::start_run(*store);
        recording_id = recording->run_id();
        proxy::SpanTable spans_of_recording(*recording);
        conditions::TrafficFacts facts_of_recording(secret);
        proxy::EventApi api(secret, nullptr, redactor);
        std::string input = "\"" + std::string(k_recorded) + "\"";
        for (const std::string& body : std::vector<std::string>{
                 R"({"kind":"tool","name":"weather","input":{"city":)" + input +
                     R"(},"output":{"t":21}})",
                 R"({"kind":"retrieval","name":"docs","input":)" + input + R"(,"output":["a"]})",
                 R"([{"kind":"clock","name":"now","output":1.5},)"
                 R"({"kind":"random","name":"draw","output":0.25}])",
                 R"({"kind":"tool","name":"weather","input":{"city":"Lyon"},)"
                 R"("error":{"type":"ValueError","message":"no"}})",
             }) {
            auto r = api.handle("POST", "/v1/events", body,
                                {recording.get(), &facts_of_recording, &spans_of_recording});
            require(r.status == 200, "the recording's events are stored");
        }
        fuzz::require_ok(recording->flush(), "the recording is stored");
    }

    // A fresh run to write to and a fresh cassette (its answers are used
    // up as they are served).
    // (one writer at a time: a writer's thread owns the store's connection
    // until it is gone, so the cassette is read before the next starts)
    void renew() {
        spans.reset();
        writer.reset();
        cassette.reset();
        auto c = replay::Cassette::load(*store, recording_id, secret, {});
        fuzz::require_ok(c, "the recording loads as a cassette");
        cassette = std::move(c).value();
        writer = fuzz::start_run(*store);
        spans = std::make_unique<proxy::SpanTable>(*writer);
        facts = std::make_unique<conditions::TrafficFacts>(secret);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    if (++world.inputs % 256 == 0) world.renew();
    if (size == 0) return 0;
    bool replaying = data[0] & 1, shield = data[0] & 2;
    // (bits 2-3: the content type, which OTLP's /v1/traces reads the body by)
    static constexpr std::string_view k_types[] = {"application/json", "application/x-protobuf", "",
                                                   "text/plain"};
    std::string_view type = k_types[(data[0] >> 2) & 3];
    bool protobuf = type == "application/x-protobuf";
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto nl = rest.find('\n');
    std::string_view path = rest.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? "" : rest.substr(nl + 1);

    proxy::EventApi api(world.secret, replaying ? world.cassette.get() : nullptr, world.redactor,
                        shield);
    auto reply = api.handle("POST", path, body,
                            {world.writer.get(), world.facts.get(), world.spans.get()}, type);
    require(reply.status == 200 || reply.status == 400 || reply.status == 404 ||
                reply.status == 405 || reply.status == 409 || reply.status == 415,
            "the status is one the event API documents");
    if (reply.content_type == "application/x-protobuf")
        require(protobuf && path == "/v1/traces", "only OTLP protobuf is answered in protobuf");
    else
        require(core::parse_json_strict(reply.body).is_ok(), "the answer is strict JSON");
    if (shield && rest.find(k_recorded) == std::string_view::npos)  // (path or body)
        require(reply.body.find(k_recorded) == std::string::npos,
                "a shielded answer quotes no recorded input");
    return 0;
}
