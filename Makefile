# The front door. `make demo` and `make test` work on a fresh Debian 12 machine.
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# make fuzz: how long each fuzz target explores (make test runs a fixed number of inputs)
FUZZ_SECONDS ?= 300

.PHONY: all bootstrap build build-asan build-fuzz test fuzz demo bench format clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DRETRACE_BUILD_TESTS=ON -DRETRACE_BUILD_BENCHMARKS=ON >/dev/null

build: bootstrap $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRETRACE_SANITIZE=ON -DRETRACE_BUILD_TESTS=ON >/dev/null

build-asan: bootstrap $(ASAN_BUILD)/CMakeCache.txt
	@cmake $(ASAN_BUILD) >/dev/null  # (a directory configured before a target was added learns of it)
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target retrace_unit_tests retrace retrace_shim fuzz_targets

# The fuzz targets (tests/fuzz/), built with clang for libFuzzer. Only the
# rooms up to the proxy are compiled: that is what the targets link.
$(FUZZ_BUILD)/CMakeCache.txt:
	@CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DRETRACE_FUZZ=ON >/dev/null

build-fuzz: bootstrap $(FUZZ_BUILD)/CMakeCache.txt
	@cmake $(FUZZ_BUILD) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets

# Every test: the Release suite (unit + end-to-end), then the unit tests and
# end-to-end tests again under ASan+UBSan, then each fuzz target on a
# fixed set of inputs.
test: build build-asan build-fuzz
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS)

# Each fuzz target for FUZZ_SECONDS, going on from what earlier runs found.
fuzz: build-fuzz
	@cd $(FUZZ_BUILD) && RETRACE_FUZZ_KEEP=1 RETRACE_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo

bench: build
	@bench/run

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
