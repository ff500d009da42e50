// What the Store interface gives every backend on top of its own methods.
#include "retrace/store/store.hpp"

namespace retrace::store {

Result<std::vector<EventRow>> Store::events(const std::string& run_id) {
    std::vector<EventRow> out;
    RETRACE_TRY(each_event(run_id, [&](EventRow&& row) {
        out.push_back(std::move(row));
        return Status::ok();
    }));
    return out;
}

}  // namespace retrace::store
