# Hash-locked Python dependencies (issue 10). Inputs: each package's pyproject.toml
# (runtime), requirements.in and requirements-dev.in; outputs, committed:
#   requirements.txt      what the service images install (all three: they share libs/common)
#   requirements-dev.txt  what `make install` and CI install: the same runtime pins + dev tools
#   ci/requirements-lint.txt  the CI lint job's flake8, at requirements-dev.txt's pins
#   make lock             write both again, keeping every pin that still fits
#   make lock LOCK_ARGS=--upgrade-package=falcon   move one package to its newest fit
#   make lock LOCK_ARGS=--upgrade                  move everything
# Resolved for the images' platform whatever machine runs it: CPython 3.11 on
# x86_64 glibc Linux (python:3.11-slim-bookworm has glibc 2.36). `make test` runs
# test-deps: `pip check` and tests/deps (each declared dependency is in the locks
# within its range), so a pyproject edit without `make lock` fails.

RUNTIME_LOCK := requirements.txt
DEV_LOCK := requirements-dev.txt
LINT_LOCK := ci/requirements-lint.txt
# The local packages: not on the index, installed from their folders (no hash).
LOCAL_PACKAGES := conduit-common $(addprefix conduit-,$(SERVICES))
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes \
	--python-version 3.11 --python-platform x86_64-manylinux_2_36 \
	--custom-compile-command 'make lock' \
	$(addprefix --no-emit-package=,$(LOCAL_PACKAGES)) $(LOCK_ARGS)

TEST_TARGETS += test-deps

.PHONY: lock test-deps

# In this order: each lock is constrained to the pins of the one before (-c).
lock: install ## write the hash locks (requirements*.txt) from the pyprojects and .in files
	$(UV_COMPILE) --output-file $(RUNTIME_LOCK) requirements.in
	$(UV_COMPILE) --output-file $(DEV_LOCK) requirements-dev.in
	$(UV_COMPILE) --output-file $(LINT_LOCK) ci/requirements-lint.in

test-deps: install ## the locks match the declared dependencies; pip check in .venv
	$(BIN)/pip check
	$(PYTEST) tests/deps
