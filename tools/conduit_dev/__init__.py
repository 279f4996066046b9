"""Developer tooling: the local stack behind `make run` and tests/e2e, gateway rendering."""
