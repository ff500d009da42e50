// What the Store interface gives every backend on top of its own methods.
#include "retrace/store/store.hpp"

namespace retrace::store {

Result<std::vector<EventRow>> Store::events(const std::string& run_id) {
    return events_after(run_id, 0);
}

Result<std::vector<EventRow>> Store::events_after(const std::string& run_id, long long after_seq) {
    std::vector<EventRow> out;
    RETRACE_TRY(each_event_after(run_id, after_seq, [&](EventRow&& row) {
        out.push_back(std::move(row));
        return Status::ok();
    }));
    return out;
}

}  // namespace retrace::store
