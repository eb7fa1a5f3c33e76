# attnserve: `make serve` and `make test` are all a newcomer needs.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
BUILD_TYPE ?= Release

.PHONY: all deps build test test-container serve bench fixtures demo-model clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

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

demo-model:
	@scripts/install-deps.sh --tools
	/usr/bin/python3 tools/train_demo.py

clean:
	rm -rf $(BUILD_DIR)
