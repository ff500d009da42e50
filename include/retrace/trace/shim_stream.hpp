// The values one process read under --deterministic, in the format the
// shim (src/shim/shim.cpp) writes them, and `record` stores as a blob of
// the process event: a header record ('H', a varint length, the process's
// command line), then one record per value, a tag and its payload: 'C' a
// CLOCK_REALTIME reading, the zigzag varint of its difference in
// nanoseconds from the previous reading (from 0 for the first); 'R' OS
// randomness, a varint length and the bytes. Varints are LEB128.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace retrace::trace {

struct ShimHeader {
    std::string command;        // "" when there is none
    std::size_t values_at = 0;  // where the records after the header begin
};

// The header alone (a stream without one: the values begin at 0).
ShimHeader read_shim_header(std::string_view data);

struct ShimValues {
    std::string command;             // from the header
    std::vector<long long> clock;    // the wall-clock readings, ns since the epoch, in order
    std::vector<std::string> draws;  // the random bytes handed out, draw by draw
    bool complete = true;            // false: it stops at a record cut short or unknown
};

// Reads a stream; lenient, as a reader of a cut stream must be: what
// comes before a damaged record is kept.
ShimValues read_shim_stream(std::string_view data);

// The header record for a command line.
std::string shim_header(std::string_view command);

}  // namespace retrace::trace
