# baofeed: `make run` and `make test` do all the set-up on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
CONFIG     ?= config/baofeed.toml
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

BAOFEED := $(BUILD)/app/baofeed
SOURCES  = $(shell git ls-files '*.cpp' '*.h' 2>/dev/null)

FUZZ_SECONDS ?= 60

.PHONY: all deps configure build run test test-asan fuzz demo format check-format clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DBAOFEED_WERROR=ON $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the shipped configuration (real sites: needs the network).
run: build
	$(BAOFEED) run --config $(CONFIG) -v

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Every test again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBAOFEED_WERROR=ON -DBAOFEED_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Every libFuzzer target for FUZZ_SECONDS each (a clang build in build-fuzz).
fuzz: deps
	tests/fuzz/run-fuzzers.sh $(FUZZ_SECONDS)

# Serve the fixture sites on loopback, crawl them, say where the feeds are. No network needed.
demo: build
	@/usr/bin/python3 scripts/demo.py --baofeed $(BAOFEED) --out out/demo

format:
	clang-format -i $(SOURCES)

check-format:
	clang-format --dry-run -Werror $(SOURCES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz out
