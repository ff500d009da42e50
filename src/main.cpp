#include "retrace/cli/app.hpp"

int main(int argc, char** argv) {
    return retrace::cli::run(argc, argv);
}
