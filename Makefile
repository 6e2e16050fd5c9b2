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

SAN_DIR    ?= build-sanitize
TSAN_DIR   ?= build-tsan
FUZZ_DIR   ?= build-fuzz
# Seconds per fuzz target: `make fuzz` (long), and the smoke run in `make test`.
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 5
VERSITYGW  := $(abspath $(BUILD_DIR))/tools/bin/versitygw
IMDS_MOCK  := $(abspath $(BUILD_DIR))/tools/bin/ec2-metadata-mock
S3PROXY_DIR := $(abspath $(BUILD_DIR))/tools/s3proxy
S3PROXY_JAR := $(S3PROXY_DIR)/s3proxy-2.6.0-jar-with-dependencies.jar

# The wheel (docs/deploy.md, "The wheel"): the txflow binary, the kernel
# extension and the Python package, built by scikit-build-core from this CMake
# project into $(DIST_DIR). BUILD_PINS are pyproject.toml's build
# requirements, installed once so that rebuilds need no network and reuse
# build/py/ (a rebuild compiles only what changed).
# $(VENV) is a virtualenv with that very wheel installed, its test and Spark
# extras (pyproject.toml pins them) and the Delta jars in
# $(VENV)/share/txflow/jars, where txflow-spark looks.
VENV       := $(BUILD_DIR)/venv
DIST_DIR   := $(BUILD_DIR)/dist
BUILD_PINS := scikit-build-core==1.1.2 nanobind==3.1.0
JARS_DIR   := $(BUILD_DIR)/jars
PY_INPUTS  := pyproject.toml README.md $(shell find python/CMakeLists.txt python/src python/txflow \
                src include cmake CMakeLists.txt -type f -not -name '*_test.cc' \
                -not -name '*_fuzz.cc' -not -name '*.pyc' 2>/dev/null)

.PHONY: all build deps wheel venv test test-sanitize test-tsan fuzz fuzz-smoke fuzz-build run bench format format-check clean
.PHONY: demo

all: build

deps:
	@tools/install-deps.sh --dev

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@tools/install-deps.sh
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DTXFLOW_WERROR=ON

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

test: deps build venv
	@tools/install-versitygw.sh $(BUILD_DIR)/tools/bin
	@tools/install-s3proxy.sh $(S3PROXY_DIR)
	@tools/install-ec2-metadata-mock.sh $(BUILD_DIR)/tools/bin
	@tools/install-deploy-tools.sh $(BUILD_DIR)
	@tools/install-browser.sh
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j 2
	@$(MAKE) --no-print-directory fuzz-smoke

wheel: $(DIST_DIR)/.built

$(DIST_DIR)/.built: $(PY_INPUTS)
	@tools/install-deps.sh
	@tools/install-deps.sh --python
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(BUILD_PINS)
	@rm -f $(DIST_DIR)/txflow-*.whl
	$(VENV)/bin/python -m pip wheel -q --disable-pip-version-check --no-deps \
	  --no-build-isolation -w $(DIST_DIR) .
	@ls $(DIST_DIR)/txflow-*.whl
	@touch $@

# Quick when nothing changed (a stamp).
venv: $(VENV)/.txflow-installed

$(VENV)/.txflow-installed: $(DIST_DIR)/.built tools/fetch-spark-jars.sh tools/spark-s3a/pom.xml
	@tools/install-deps.sh --spark
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --force-reinstall \
	  --no-deps $(DIST_DIR)/txflow-*.whl
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check \
	  "$$(ls $(DIST_DIR)/txflow-*.whl)[test,spark]"
	tools/fetch-spark-jars.sh $(JARS_DIR)
	@rm -rf $(VENV)/share/txflow/jars && mkdir -p $(VENV)/share/txflow && cp -r $(JARS_DIR) $(VENV)/share/txflow/jars
	@touch $@

# libFuzzer targets (clang, with ASan + UBSan), one ctest entry each.
fuzz-build: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTXFLOW_FUZZ=ON -DTXFLOW_BUILD_TESTS=OFF \
	  -DTXFLOW_WERROR=ON -DTXFLOW_FUZZ_SECONDS=$(SECS)
	cmake --build $(FUZZ_DIR)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz-build SECS=$(FUZZ_SMOKE_SECONDS)
	ctest --test-dir $(FUZZ_DIR) --output-on-failure -j 2 -L fuzz

fuzz:
	@$(MAKE) --no-print-directory fuzz-build SECS=$(FUZZ_SECONDS)
	ctest --test-dir $(FUZZ_DIR) --output-on-failure -j 2 -L fuzz -V | grep -E '^[0-9]+: fuzz |tests passed|FAILED' 

# The whole test suite again, built with AddressSanitizer and UBSan (CI runs
# it after `make test`). Slower; the kill storms run with fewer kills' worth
# of time per process but the same assertions.
test-sanitize: deps
	@tools/install-versitygw.sh $(BUILD_DIR)/tools/bin
	@tools/install-s3proxy.sh $(S3PROXY_DIR)
	@tools/install-ec2-metadata-mock.sh $(BUILD_DIR)/tools/bin
	cmake -S . -B $(SAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTXFLOW_WERROR=ON -DTXFLOW_SANITIZE=ON -DTXFLOW_VERSITYGW=$(VERSITYGW) \
	  -DTXFLOW_S3PROXY_JAR=$(S3PROXY_JAR) -DTXFLOW_EC2_METADATA_MOCK=$(IMDS_MOCK)
	cmake --build $(SAN_DIR)
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SAN_DIR) --output-on-failure -j 2 -LE "lint|python|spark|deploy|demo|browser"

# The suites that run threads (the ordered writer, the detector with its
# writer thread, `txflow run` with X and Y in one process, the lock), built
# with ThreadSanitizer: a data race fails the test that ran into it.
test-tsan: deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTXFLOW_WERROR=ON -DTXFLOW_TSAN=ON
	cmake --build $(TSAN_DIR)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_DIR) --output-on-failure -j 2 -LE "lint|s3|slow" \
	  -R "OrderedWorker|TaskPool|Detector|LeaseLock|Cli|Run"

# Only the binary it runs: `make build` and `make test` build the tests too.
run: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target txflow
	@tools/run-demo.sh "$(TXFLOW)" "$(SOURCE)" "$(IMPORTANCE)" "$(ROOT)" "$(DEMO_DIR)" "$(DEMO_ROWS)"

# The live pipeline (tools/run-demo-live.sh has the settings: RATE, EVERY,
# METRICS_ADDR, DURATION, ...): `txflow gen --append` grows data/live/
# transactions.csv, `txflow run` cuts it every 5 s and detects continuously
# into ./bucket-live with metrics on, `txflow status` every few seconds;
# Ctrl-C stops it and writes the report.
demo: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target txflow
	@tools/run-demo-live.sh "$(TXFLOW)"

bench: build
	@bench/run

format:
	@tools/install-deps.sh --dev
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check:
	@tools/install-deps.sh --dev
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) $(TSAN_DIR) $(FUZZ_DIR)
