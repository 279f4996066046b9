# Monitoring: `MONITORING=1 make run` adds a Prometheus (Debian's prometheus package)
# scraping every service's internal port and both projectors (tools/conduit_dev/
# monitoring.py); the k8s side is k8s/components/monitoring (checked by test-k8s).
#   make test-monitoring    a stack on free ports with Prometheus: every target up
TEST_TARGETS += test-monitoring

.PHONY: test-monitoring

test-monitoring: install $(NODE_TOOLS) ## a stack with MONITORING on: Prometheus sees every target up
	$(PYTEST) tests/monitoring
