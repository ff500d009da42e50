// The command-line interface: a thin layer that parses arguments, calls the
// library and prints human text or --json. One file per subcommand group.
#pragma once

namespace retrace::cli {

// Runs the CLI; returns the process exit code (see DESIGN.md: 0 ok, 1 the
// thing checked failed, 2 usage or input error, the child's code for record).
int run(int argc, char** argv);

}  // namespace retrace::cli
