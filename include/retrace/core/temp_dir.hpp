// Where retrace puts its scratch files (the determinism shim's streams, the
// SDKs' issue ledgers, a probe's outputs).
#pragma once

#include <filesystem>

namespace retrace::core {

// $TMPDIR when it names a directory, else /tmp. Never TMP, TEMP or
// TEMPDIR, which std::filesystem::temp_directory_path also reads and then
// throws on: in a program's environment TEMP=0.8 is a sampling temperature
// as often as a directory.
std::filesystem::path temp_dir();

}  // namespace retrace::core
