# attnserve: `make serve` and `make test` are all a newcomer needs.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
BUILD_TYPE ?= Release

.PHONY: all deps build test serve bench fixtures demo-model clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

# Runs the bundled demo model on its sample sequences (the gRPC server
# replaces this once it exists).
serve: build
	$(BUILD_DIR)/client/attnrun --model models/demo/1 --input client/samples/demo.json

bench: build
	$(BUILD_DIR)/bench/engine_bench

# Regenerate the golden parity fixtures and the demo model (needs PyTorch).
fixtures:
	@scripts/install-deps.sh --tools
	/usr/bin/python3 tools/make_fixtures.py

demo-model:
	@scripts/install-deps.sh --tools
	/usr/bin/python3 tools/train_demo.py

clean:
	rm -rf $(BUILD_DIR)
