# txflow: the two commands a person needs are `make run` and `make test`.
# Everything else here is what those two are made of.

BUILD_DIR  ?= build
BUILD_TYPE ?= Release
# The main job's inputs; override to point it at your own data:
#   make run SOURCE=/path/transactions.csv IMPORTANCE=/path/CustomerImportance.csv ROOT=./bucket
DEMO_DIR   ?= data/demo
DEMO_ROWS  ?= 600000
SOURCE     ?= $(DEMO_DIR)/transactions.csv
IMPORTANCE ?= $(DEMO_DIR)/CustomerImportance.csv
ROOT       ?= ./bucket

TXFLOW := $(BUILD_DIR)/txflow

.PHONY: all build deps test run bench format format-check clean

all: build

deps:
	@tools/install-deps.sh --dev

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@tools/install-deps.sh
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DTXFLOW_WERROR=ON

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

test: deps build
	@tools/install-versitygw.sh $(BUILD_DIR)/tools/bin
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2

run: build
	@tools/run-demo.sh "$(TXFLOW)" "$(SOURCE)" "$(IMPORTANCE)" "$(ROOT)" "$(DEMO_DIR)" "$(DEMO_ROWS)"

bench: build
	@bench/run

format:
	@tools/install-deps.sh --dev
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check:
	@tools/install-deps.sh --dev
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
