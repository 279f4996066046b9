# Benchmark through the gateway (not part of `make test`) and the OpenAPI contract test.
# `make bench` starts the stack with the same launcher as `make run`, on free ports and
# with its own state under .run/bench, seeds it through the API, loads it with wrk and
# writes the "## API throughput" section of docs/benchmarks.md. Raw output: reports/bench/.
# BENCH_ARGS passes options, e.g. `make bench BENCH_ARGS="--seconds 3 --no-compare"`.
BENCH_ARGS ?=

.PHONY: bench test-openapi

TEST_TARGETS += test-openapi

bench: install ## load-test the stack through the gateway; writes docs/benchmarks.md
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

test-openapi: install ## docs/openapi.yml is valid and matches the services' routes
	$(PYTEST) tests/openapi
