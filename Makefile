# attnserve: `make serve` and `make test` are all a newcomer needs.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
BUILD_TYPE ?= Release

.PHONY: all deps build test test-sanitize fuzz test-container serve bench fixtures keras-fixtures demo-model clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

# The unit, integration and fuzz-corpus tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any report fails its test). CI runs it after
# `make test`; fuzz/README.md.
# -O1 -g1: what the sanitizers need (frames and line tables in reports) at a
# fraction of -O2 -g's build time.
SANITIZE_DIR ?= build-sanitize
test-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNSERVE_SANITIZE=ON \
	  -DATTNSERVE_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
	  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
	cmake --build $(SANITIZE_DIR) -j$(JOBS)
	cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS) -LE 'e2e|deploy|avx2|static|clients'

# Each libFuzzer target for FUZZ_SECONDS (clang, ASan and UBSan; fuzz/README.md).
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps.sh --fuzz
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DATTNSERVE_LIBFUZZER=ON -DATTNSERVE_SANITIZE=ON -DATTNSERVE_BUILD_TESTS=OFF \
	  -DATTNSERVE_BUILD_BENCH=OFF
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target attnserve_fuzzers
	fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

# Builds the container image with podman (offline) and runs it: health, classify,
# /metrics, drain on stop. Minutes, so not part of `make test` (docs/deploy.md).
test-container: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target attnctl
	tests/deploy/container_test.sh --attnctl $(BUILD_DIR)/client/attnctl

# Starts attnserve on the bundled demo model repository (Ctrl-C stops it). It
# polls the repository: a version dropped into models/demo/ is loaded, warmed
# up and swapped in while it serves (docs/model-management.md).
PORT ?= 8500
POLL_S ?= 2
serve: build
	$(BUILD_DIR)/server/attnserve --model_repository=models --port=$(PORT) \
	  --model_control=poll --repository_poll_s=$(POLL_S)

# The benchmark suite (bench/run_suite.sh, docs/performance.md): engine vs the
# CPU's peak and PyTorch, serving comparisons, a server profile, plots. About
# 20 minutes; results in $(BUILD_DIR)/bench-results. BENCH_FLAGS=--quick: minutes.
bench: build
	@scripts/install-deps.sh --bench
	bench/run_suite.sh $(BUILD_DIR) $(BUILD_DIR)/bench-results $(BENCH_FLAGS)

# Regenerate the golden parity fixtures and the demo model (needs PyTorch).
fixtures:
	@scripts/install-deps.sh --tools
	/usr/bin/python3 tools/make_fixtures.py

# Regenerate the Keras oracle fixtures, tests/fixtures/keras (docs/keras.md): the
# recipes built in TensorFlow.js (installed from the npm registry into
# tools/keras/node_modules, versions pinned by its package-lock.json), their
# outputs, and the same weights as Keras .h5 and .keras files.
keras-fixtures:
	@scripts/install-deps.sh --keras
	cd tools/keras && npm ci --ignore-scripts --no-audit --no-fund
	node tools/keras/make_keras_fixtures.js
	/usr/bin/python3 tools/keras/write_keras_files.py

demo-model:
	@scripts/install-deps.sh --tools
	/usr/bin/python3 tools/train_demo.py

clean:
	rm -rf $(BUILD_DIR)
