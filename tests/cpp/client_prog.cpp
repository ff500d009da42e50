// A C++ program recording and replaying events with include/retrace/client.hpp.
// With TOOLS=raise, every real function throws if called.
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include "retrace/client.hpp"

namespace {
void guard(const char* name) {
    const char* t = std::getenv("TOOLS");
    if (t && std::string(t) == "raise") {
        std::cerr << "real " << name << " called during replay\n";
        std::exit(3);
    }
}
}  // namespace

int main() {
    auto& rt = retrace::client::Client::from_environment();
    const char* first = std::getenv("FIRST");
    std::string a = first ? first : "1";
    std::cout << "add " << rt.tool("add", "{\"a\":" + a + ",\"b\":2}", [&] {
        guard("add");
        return std::to_string(std::stoi(a) + 2);
    }) << "\n";
    std::cout << "docs " << rt.retrieval("kb", "\"paris\"", [] {
        guard("kb");
        return std::string(R"(["about \"paris\"",2])");  // canonical JSON: replays as is
    }) << "\n";
    try {
        rt.tool("charge", R"({"account":"acme"})", []() -> std::string {
            guard("charge");
            throw std::runtime_error("account acme is over quota");
        });
    } catch (const std::exception& e) {
        std::cout << "raised " << e.what() << "\n";
    }
    rt.checkpoint("state", "{\"n\":" + a + "}");
    return 0;
}
