# The developer environment itself (tests/devenv): `make run` and the tests' throwaway
# Postgres clusters from a checkout in a 0700 directory, as root (skipped otherwise).
TEST_TARGETS += test-devenv

.PHONY: test-devenv

test-devenv: install $(NODE_TOOLS) ## make run + throwaway clusters from a private (0700) checkout, as root
	$(PYTEST) tests/devenv
