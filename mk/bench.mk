# Benchmark through the gateway (not part of `make test`) and the OpenAPI contract test.
# `make bench` starts the stack with the same launcher as `make run`, on free ports and
# with its own state under .run/bench, seeds it through the API, loads it with wrk, then
# bulk-loads the large data set into the same database (bench/bulk_load.py) and runs the
# list endpoints again, measures the projection lag during a write mix, and, when the
# RealWorld peers of ../shared/peers are installed, loads them with the same scenario.
# It writes the "## API throughput" section of docs/benchmarks.md. Raw output: reports/bench/.
# BENCH_ARGS passes options, e.g.
#   make bench BENCH_ARGS="--seconds 3 --no-compare --scale 0.01 --peers none"
#   make bench BENCH_ARGS="--peers $$HOME/conduit-peers"     # peers installed elsewhere
BENCH_ARGS ?=

.PHONY: bench test-openapi test-bench

TEST_TARGETS += test-openapi test-bench

bench: install ## load-test the stack through the gateway; writes docs/benchmarks.md
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

test-openapi: install ## docs/openapi.yml is valid and matches the services' routes
	$(PYTEST) tests/openapi

test-bench: install ## the bench's own code: the bulk loader (throwaway Postgres), the machine-speed probe, the report
	$(PYTEST) bench/tests
