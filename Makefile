# The commands people type. Every target works from a fresh clone: it installs
# what it needs first. Fragments in mk/*.mk add their own targets and append to
# TEST_TARGETS, so `make test` runs everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := auth profiles articles
PACKAGES := libs/common $(addprefix services/,$(SERVICES))
PYTEST := $(BIN)/pytest
# $(QUIETLY) LOG COMMAND...: the command's output goes to LOG, shown only if it fails.
QUIETLY := scripts/quietly.sh

# npm tools (newman, swagger-ui-dist): every target that starts the stack needs them.
NPM ?= npm
NODE_TOOLS := node_modules/.installed

# Each fragment appends `test-<something>` targets to TEST_TARGETS.
TEST_TARGETS := test-common $(addprefix test-,$(SERVICES))
-include mk/*.mk

.PHONY: help install lint test test-common $(addprefix test-,$(SERVICES)) migrate clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

# The venv's bundled pip installs the lock, which brings the pinned pip (mk/deps.mk).
$(BIN)/activate:
	@echo "creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

# Every third-party package comes from requirements-dev.txt, pinned and checked against
# its sha256 (--require-hashes), none of its own choosing (--no-deps); then our
# packages, editable, from their folders (a directory has no hash to check), built
# with the locked setuptools. The stamp is rebuilt whenever the lock or a package's
# pyproject.toml changes. Quiet unless it fails (setuptools prints a screen of
# warnings per editable package).
$(VENV)/.installed: $(BIN)/activate requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	@echo "installing python packages into $(VENV) (logs: $(VENV)/install*.log)"
	@$(QUIETLY) $(VENV)/install.log \
	    $(BIN)/pip install --require-hashes --no-deps -r requirements-dev.txt
	@$(QUIETLY) $(VENV)/install-local.log \
	    $(BIN)/pip install --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	@touch $@

install: $(VENV)/.installed ## create .venv with every package (editable) and the dev tools

lint: install ## flake8 over the whole tree
	$(BIN)/flake8 .

test: lint $(TEST_TARGETS) ## lint, then every package's tests and the checks in mk/*.mk

test-common: install
	$(PYTEST) libs/common/tests

$(addprefix test-,$(SERVICES)): test-%: install
	$(PYTEST) services/$*/tests

# Migrations run as each schema's owner role (conduit_<svc>_owner), never as the
# services' runtime roles: AUTH_MIGRATE_DATABASE_URL, PROFILES_MIGRATE_DATABASE_URL,
# ARTICLES_MIGRATE_DATABASE_URL (make run migrates by itself).
migrate: install ## upgrade every service's schema (needs <SVC>_MIGRATE_DATABASE_URL, the owner roles' URLs)
	@for svc in $(SERVICES); do \
		var="$$(echo $$svc | tr a-z A-Z)_MIGRATE_DATABASE_URL"; \
		url="$${!var:-}"; \
		if [ -z "$$url" ]; then echo "$$var is not set (conduit_$${svc}_owner's URL)" >&2; exit 1; fi; \
		echo "migrating $$svc"; \
		MIGRATE_DATABASE_URL="$$url" $(BIN)/alembic -c services/$$svc/alembic.ini upgrade head || exit 1; \
	done

clean: ## remove caches and build outputs (keeps .venv and .run)
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
	rm -rf .pytest_cache reports
