# Thin wrapper over CMake for the everyday commands. See README.md.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
VENV := .venv
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: all build bootstrap install test unit interop python pytest bench-python soak soak-rest asan oom fuzz demo demo-s3 bench bench-s3 bench-tables bench-changes bench-commit bench-billion conformance clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# libfirn.a, libfirn.so, firn/*.h, firn.pc (lib/pkgconfig) and bin/firn under PREFIX.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# (the module too: docs/engines.md's Ray recipe, run by test_engines_doc, imports it)
# Results must not depend on the thread count: the suite runs with 4 threads
# (more than CI's cores), and the tests that read and write most with 1.
INTEROP_1T = test_tables.py test_deletes.py test_model.py test_selective_scan.py \
	test_changes.py test_parquet_read.py test_parquet_write.py test_write_budget.py
interop: build python
	FIRN_THREADS=4 FIRN_BIN=$(abspath $(BUILD))/firn $(PYTEST) -q tests/interop
	FIRN_THREADS=1 FIRN_BIN=$(abspath $(BUILD))/firn $(PYTEST) -q $(addprefix tests/interop/,$(INTEROP_1T))

# The Python module (python/), built against $(BUILD)/libfirn.a and installed into .venv.
python: build
	FIRN_BUILD=$(abspath $(BUILD)) $(VENV)/bin/pip install -q --disable-pip-version-check ./python

pytest: python
	$(PYTEST) -q tests/python

test: unit interop pytest

# Model-based soak: SOAK_SEQUENCES random operation sequences (from seed
# SOAK_START) against the model of tests/interop/model.py; prints each
# failing seed with its operations and the shortest failing list found.
SOAK_SEQUENCES ?= 2000
SOAK_START ?= 1000
soak: build
	FIRN_BIN=$(abspath $(BUILD))/firn $(VENV)/bin/python tests/interop/model.py soak $(SOAK_SEQUENCES) $(SOAK_START)

# 16 committers (firn, PyIceberg, DuckDB) x 50 commits through firn serve
soak-rest: build
	FIRN_REST_COMMITS=50 FIRN_BIN=$(abspath $(BUILD))/firn $(PYTEST) -q tests/interop/test_rest_concurrency.py

asan: bootstrap
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFIRN_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)
	FIRN_BIN=$(abspath $(ASAN_BUILD))/firn $(PYTEST) -q tests/interop

# Out-of-memory injection (tests/unit/test_oom.c) at every N, one-shot and
# persistent, under AddressSanitizer + LeakSanitizer.
oom: bootstrap
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFIRN_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target test_oom
	ASAN_OPTIONS=detect_leaks=1 FIRN_OOM_OPS=all FIRN_OOM_ALL=1 FIRN_OOM_PERSISTENT=1 $(ASAN_BUILD)/test_oom

fuzz: bootstrap
	CC=clang cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFIRN_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@echo "run e.g.: $(FUZZ_BUILD)/fuzz_parquet tests/fuzz/corpus/parquet -max_total_time=600"

demo: build
	@bash scripts/demo.sh $(BUILD)/firn

# the same life cycle on s3:// against a local S3 server (moto)
demo-s3: build
	@bash scripts/demo_s3.sh $(BUILD)/firn

bench: build
	@bash bench/run.sh $(BUILD)/firn

# S3 requests and bytes, firn vs PyIceberg vs DuckDB (moto); SF=1 for lineitem SF1
bench-s3: build
	@$(VENV)/bin/python bench/s3_bench.py $(BUILD)/firn $(or $(SF),0.1)

# Table benchmarks (issue 3): firn vs PyIceberg and DuckDB on TPC-H lineitem SF1.
bench-tables: build
	@mkdir -p bench/out/tpch
	@[ -f bench/out/tpch/lineitem.parquet ] || $(VENV)/bin/tpchgen-cli -s 1 --tables lineitem --format parquet --output-dir bench/out/tpch
	$(VENV)/bin/python bench/bench_tables.py $(BUILD)/firn bench/out/tpch/lineitem.parquet

# Row-level change benchmarks (issue 4): deletes, updates, merge, compaction, delete pile-up.
bench-changes: build
	@mkdir -p bench/out/tpch
	@[ -f bench/out/tpch/lineitem.parquet ] || $(VENV)/bin/tpchgen-cli -s 1 --tables lineitem --format parquet --output-dir bench/out/tpch
	$(VENV)/bin/python bench/bench_changes.py $(BUILD)/firn bench/out/tpch/lineitem.parquet
	$(VENV)/bin/python bench/bench_compact.py $(BUILD)/firn

# Commit latency against history: one-row appends at 1 / 100 / 1,000 snapshots (p50, p99).
bench-commit: build
	$(VENV)/bin/python bench/commit_latency.py $(BUILD)/firn

# Scan lineitem SF1 into pyarrow and append it: the firn module vs PyIceberg and DuckDB.
bench-python: python
	@mkdir -p bench/out/tpch
	@[ -f bench/out/tpch/lineitem.parquet ] || $(VENV)/bin/tpchgen-cli parquet -s 1 --tables lineitem --output-dir bench/out/tpch
	$(VENV)/bin/python bench/python_scan.py bench/out/tpch/lineitem.parquet

# The seed's billion rows (issue 13): build, counts, lookup, delete, update,
# compaction and scan, beside DuckDB and PyIceberg. ROWS=20000000 for a quick run.
bench-billion: build
	$(VENV)/bin/python bench/billion.py $(BUILD)/firn --rows $(or $(ROWS),1000000000)

# Runs the interop suites and writes docs/conformance.md from their outcomes.
conformance: build
	-FIRN_BIN=$(abspath $(BUILD))/firn FIRN_CONFORMANCE_OUT=$(abspath $(BUILD))/conformance.json \
		$(PYTEST) -q tests/interop
	$(VENV)/bin/python scripts/conformance.py $(BUILD)/conformance.json docs/conformance.md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
