# GitLab CI (issue 7): `make test-ci` checks the pipeline files against GitLab's
# schema, which child pipelines a change starts, and runs every service's test and
# lint jobs under gitlab-ci-local (tests/ci; it installs gitlab-ci-local into
# ci/node_modules, and rsync when missing). docs/ci.md describes the pipeline.
TEST_TARGETS += test-ci

.PHONY: test-ci

test-ci: install ## the CI files, their rules and each service's jobs (gitlab-ci-local)
	$(PYTEST) tests/ci
