#include <csignal>

#include "retrace/cli/app.hpp"

int main(int argc, char** argv) {
    // A reader that goes away (`retrace record -- prog | head`) must not kill
    // retrace before it has stored the run: writes to it fail instead, and
    // the programs retrace starts get the default back.
    std::signal(SIGPIPE, SIG_IGN);
    // A file size limit (`ulimit -f`) reached while storing makes the write
    // fail, as a full disk does, instead of killing retrace mid-run.
    std::signal(SIGXFSZ, SIG_IGN);
    return retrace::cli::run(argc, argv);
}
