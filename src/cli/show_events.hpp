// Reading a trace: the trajectory as a tree (`show RUN`) and one exchange in
// full (`show RUN --event N`).
#pragma once

#include "retrace/store/store.hpp"

namespace retrace::cli {

// One line per event, children indented under their parent; consecutive
// similar events collapse into one line unless all.
void print_event_tree(store::Store& store, const std::vector<store::EventRow>& events, bool all);

// Event seq of run in full; JSON for programs. not_found when there is no such event.
Status show_event(store::Store& store, const store::RunRow& run, long long seq, bool json);

}  // namespace retrace::cli
