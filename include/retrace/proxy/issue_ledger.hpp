// The program's causal order for SDK events. The SDKs post events from a
// background sender (record mode), so an event that finished before the
// program sent a model request can reach the recorder after it. To number
// them in the program's order, each SDK process counts the events it has
// issued in a file of its own in the ledger's directory
// ($RETRACE_ORDER_DIR/<ledger>: the count as 8 little-endian bytes,
// rewritten as each event is queued, before the call that issued it
// returns), and tags each event with its ledger and number. Before a model
// request is numbered, the proxy waits until every event counted in the
// files has been received. See docs/event-api.md.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace retrace::proxy {

class IssueLedger {
  public:
    // A fresh directory under the system's temp directory; nullptr when
    // none can be made (the run is recorded in arrival order).
    static std::unique_ptr<IssueLedger> create();
    ~IssueLedger();
    IssueLedger(const IssueLedger&) = delete;
    IssueLedger& operator=(const IssueLedger&) = delete;

    const std::filesystem::path& dir() const { return m_dir; }
    // The event API recorded the event `issue` of `ledger`.
    void received(const std::string& ledger, long long issue);
    // True when every event the files count has been received.
    bool caught_up();
    // Stops waiting for what the files count now (a process that died with
    // events unsent): a later caught_up() waits only for events after them.
    void give_up();
    // A ledger name as the SDKs make them (digits, letters, '-', at most 64).
    static bool valid_name(const std::string& name);

  private:
    explicit IssueLedger(std::filesystem::path dir) : m_dir(std::move(dir)) {}
    // Every file's count, by name.
    std::map<std::string, long long> counts() const;

    std::filesystem::path m_dir;
    std::mutex m_mutex;
    std::map<std::string, long long> m_received;  // the highest issue recorded, by ledger
};

}  // namespace retrace::proxy
