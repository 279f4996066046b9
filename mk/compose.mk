# Containers: the service images, docker-compose local integration, and their checks.
#   make dockerfiles        regenerate services/*/Dockerfile from docker/Dockerfile.in
#   make compose-keys       generate the stack's token keys once into CONDUIT_KEYS_DIR
#                           (compose-up and compose-test do it first)
#   make compose-up         build the images and start the stack (gateway on :8080);
#                           TRACING=1 adds the OpenTelemetry Collector (tracing on)
#   make compose-down       stop it, remove its containers and network (the data stays)
#   make compose-test       build, start, wait for health, run the Postman suite
#                           (make test-postman) and tests/e2e (make test-e2e-external)
#                           through the gateway, tear down; fails on any failure
# `make test` runs test-compose-config (hadolint, compose spec, `docker-compose config`);
# compose-test needs a Docker engine and runs on its own (CI, or by hand).

# `docker compose` (v2 plugin) when present, else docker-compose (v1, or a v2 binary).
COMPOSE_CMD ?= $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)
COMPOSE_PROJECT ?= conduit
# .env when you made one, else the committed example (local values only).
COMPOSE_ENV_FILE ?= $(if $(wildcard .env),.env,.env.example)
# TRACING=1: also docker-compose.tracing.yml (an OpenTelemetry Collector, the services'
# OTEL_EXPORTER_OTLP_ENDPOINT pointing at it); off, nothing traces.
COMPOSE_TRACING_FILE := $(if $(filter-out 0,$(TRACING)),-f $(CURDIR)/docker-compose.tracing.yml)
COMPOSE = $(COMPOSE_CMD) --project-name $(COMPOSE_PROJECT) --env-file $(CURDIR)/$(COMPOSE_ENV_FILE) -f $(CURDIR)/docker-compose.yml $(COMPOSE_TRACING_FILE)
# Where the tests reach the gateway (docker-in-docker: GATEWAY_BIND=0.0.0.0 and
# COMPOSE_TEST_HOST=docker).
COMPOSE_TEST_HOST ?= 127.0.0.1
COMPOSE_TEST_BASE_URL ?= http://$(COMPOSE_TEST_HOST):$(or $(GATEWAY_HOST_PORT),8080)/flask/api
COMPOSE_WAIT_SECONDS ?= 300
# The Ed25519 keys docker-compose.yml mounts as secrets (never committed: under .run/).
CONDUIT_KEYS_DIR ?= $(CURDIR)/.run/compose-keys
export CONDUIT_KEYS_DIR
DOCKERFILE_TEMPLATE := docker/Dockerfile.in
SERVICE_DOCKERFILES := $(addsuffix /Dockerfile,$(addprefix services/,$(SERVICES)))
# $(call render_dockerfile,SERVICE): the service's Dockerfile on stdout.
render_dockerfile = { echo '\# Generated from $(DOCKERFILE_TEMPLATE) by `make dockerfiles`: edit that file, not this one.'; \
	sed 's/@SERVICE@/$(1)/g' $(DOCKERFILE_TEMPLATE); }

TEST_TARGETS += test-compose-config

.PHONY: dockerfiles compose-keys compose-up compose-down compose-test test-compose-config

dockerfiles: $(SERVICE_DOCKERFILES) ## regenerate services/*/Dockerfile from docker/Dockerfile.in

services/%/Dockerfile: $(DOCKERFILE_TEMPLATE)
	$(call render_dockerfile,$*) >$@

# Idempotent: existing keys are kept, so a restarted stack accepts its old tokens.
compose-keys: install ## generate the compose stack's token keys once (into CONDUIT_KEYS_DIR)
	@$(BIN)/python -m conduit_common.keys dev --for-containers $(CONDUIT_KEYS_DIR) >/dev/null
	@echo "token keys in $(CONDUIT_KEYS_DIR)"

# Build only the three images (the migrate one-shots share them), then start: faster
# than `up --build`, which asks the builder about every service.
compose-up: $(NODE_TOOLS) compose-keys ## build the service images and start the stack (http://127.0.0.1:8080/flask/api)
	$(COMPOSE) build $(SERVICES)
	$(COMPOSE) up --detach
	bash docker/compose-wait.sh $(COMPOSE_WAIT_SECONDS) $(COMPOSE)

# The database volume survives; `make compose-down COMPOSE_DOWN_ARGS=--volumes` drops it.
compose-down: ## stop the stack and remove its containers and network (keeps the database)
	$(COMPOSE) down --remove-orphans --timeout 10 $(COMPOSE_DOWN_ARGS)

compose-test: $(NODE_TOOLS) compose-keys ## build, start, run the Postman suite + e2e tests via the gateway, tear down
	COMPOSE="$(COMPOSE)" COMPOSE_WAIT_SECONDS=$(COMPOSE_WAIT_SECONDS) \
	CONDUIT_BASE_URL=$(COMPOSE_TEST_BASE_URL) MAKE="$(MAKE)" \
	    bash docker/compose-test.sh

test-compose-config: install ## hadolint the Dockerfiles; compose file against the spec and docker-compose
	@$(foreach svc,$(SERVICES),$(call render_dockerfile,$(svc)) | diff -u services/$(svc)/Dockerfile - \
	    || { echo "services/$(svc)/Dockerfile is stale: run make dockerfiles" >&2; exit 1; };)
	$(BIN)/hadolint --failure-threshold warning $(SERVICE_DOCKERFILES) docker/docs.Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.tracing.yml
	$(COMPOSE_CMD) --env-file $(CURDIR)/.env.example -f $(CURDIR)/docker-compose.yml config -q
	$(COMPOSE_CMD) --env-file $(CURDIR)/.env.example -f $(CURDIR)/docker-compose.yml \
	    -f $(CURDIR)/docker-compose.tracing.yml config -q
	$(PYTEST) tests/compose
