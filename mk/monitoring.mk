# Monitoring: `MONITORING=1 make run` adds a Prometheus (Debian's prometheus package)
# scraping every service's internal port, both projectors and the gateway (nginx's
# stub_status via Debian's prometheus-nginx-exporter; tools/conduit_dev/monitoring.py);
# the k8s side is k8s/components/monitoring (checked by test-k8s).
#   make test-monitoring    a stack on free ports with Prometheus: every target up,
#                           gateway requests counted
TEST_TARGETS += test-monitoring

.PHONY: test-monitoring

test-monitoring: install $(NODE_TOOLS) ## a stack with MONITORING on: Prometheus sees every target up
	$(PYTEST) tests/monitoring
