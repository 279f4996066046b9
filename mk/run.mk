# The local stack and the end-to-end tests through the nginx gateway.
# tools/conduit_dev holds the launcher that `make run` and tests/e2e share.
#   make run                 the whole stack in the foreground (Ctrl-C stops it all)
#   make test-e2e            start the stack on free ports, test through nginx, incl. newman
#   make test-postman        the RealWorld Postman suite against a running gateway
#                            (CONDUIT_BASE_URL, default make run's http://127.0.0.1:8080/flask/api)
#   make test-e2e-external   the e2e tests against a running gateway at CONDUIT_BASE_URL
#   make fuzz                a longer schemathesis hunt than the one in test-e2e: a fresh
#                            random seed and FUZZ_EXAMPLES (300) examples per operation
#   make gateway-routes      regenerate the gateway template's routes from gateway/routes.yml
CONDUIT_DEV := PYTHONPATH=$(CURDIR)/tools $(BIN)/python -m conduit_dev

TEST_TARGETS += test-e2e

.PHONY: run test-e2e e2e fuzz test-postman newman test-e2e-external node-tools gateway-routes

# package-lock.json pins newman; npm ci installs exactly that.
$(NODE_TOOLS): package.json package-lock.json
	@echo "installing npm tools into node_modules (log: node_modules/.install.log)"
	@$(QUIETLY) node_modules/.install.log $(NPM) ci --no-audit --no-fund
	@touch $@

node-tools: $(NODE_TOOLS) ## install the pinned npm tools (newman, swagger-ui-dist) with npm ci

run: install $(NODE_TOOLS) ## the whole stack on http://localhost:8080/flask/api (Ctrl-C stops it)
	$(CONDUIT_DEV) run

test-e2e: install $(NODE_TOOLS) ## tests through the gateway on a fresh stack, incl. the Postman suite
	env -u CONDUIT_BASE_URL $(PYTEST) tests/e2e

e2e: test-e2e

FUZZ_EXAMPLES ?= 300
fuzz: install ## hunt for 5xx with generated requests (new random seed each run) on a fresh stack
	env -u CONDUIT_BASE_URL CONDUIT_FUZZ_SEED=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') \
	    CONDUIT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/e2e/test_fuzz.py

test-postman: install $(NODE_TOOLS) ## the RealWorld Postman suite against a running gateway
	$(CONDUIT_DEV) newman $(if $(CONDUIT_BASE_URL),--api-url $(CONDUIT_BASE_URL))

newman: test-postman

test-e2e-external: install ## the e2e tests against a running gateway at CONDUIT_BASE_URL
	@test -n "$(CONDUIT_BASE_URL)" || { \
	    echo "set CONDUIT_BASE_URL, e.g. http://127.0.0.1:8080/flask/api" >&2; exit 1; }
	CONDUIT_BASE_URL=$(CONDUIT_BASE_URL) $(PYTEST) tests/e2e -m "not postman"

gateway-routes: install ## regenerate the gateway template's routes from gateway/routes.yml
	$(CONDUIT_DEV) gateway-routes
