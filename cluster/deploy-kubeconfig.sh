#!/usr/bin/env bash
# Give the deploy jobs their own, namespace-scoped identity: apply k8s/deploy-access
# (ServiceAccount conduit-deployer, its Role in namespace conduit, a ClusterRole for
# the Namespace and the ClusterIssuers by name) and build a kubeconfig that holds
# only that account's token. Run once, with cluster-admin (the `cluster` job after
# create-or-update.sh, or an operator with `kops export kubecfg --admin`); again to
# rotate the token after deleting the Secret conduit-deployer-token.
#
# Usage: cluster/deploy-kubeconfig.sh [--gitlab-variable NAME]
#   without an option: print the kubeconfig, base64 on one line, on stdout (paste it
#     into Settings > CI/CD > Variables as KUBE_DEPLOY_CONFIG: masked, protected)
#   --gitlab-variable NAME: store it as that project variable, masked and protected,
#     through the GitLab API (GITLAB_API_TOKEN: a project access token with scope
#     `api`, role Maintainer; CI_API_V4_URL and CI_PROJECT_ID, set in every job).
#     The kubeconfig never reaches the job log.
#
# Environment: TOKEN_TIMEOUT  seconds to wait for Kubernetes to fill in the token (60)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
namespace=conduit
account=conduit-deployer
log() { echo "deploy-kubeconfig: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

variable=""
case "${1:-}" in
    --gitlab-variable)
        variable="${2:-}"
        [[ "$variable" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--gitlab-variable needs a name"
        for name in GITLAB_API_TOKEN CI_API_V4_URL CI_PROJECT_ID; do
            [ -n "${!name:-}" ] || die "$name is not set (needed to store $variable)"
        done
        ;;
    "") ;;
    *) die "unknown argument $1 (usage: deploy-kubeconfig.sh [--gitlab-variable NAME])" ;;
esac

# The namespace first (the deployer may only patch it), then the account and rights.
if ! kubectl get namespace "$namespace" >/dev/null 2>&1; then
    kubectl create namespace "$namespace" >&2
fi
kubectl apply -k "$root/k8s/deploy-access" >&2
# A long-lived token of the account (Kubernetes fills in `token`); it lives only in
# the cluster and in the kubeconfig, never in git. Deleting it revokes the kubeconfig.
kubectl apply -f - >&2 <<SECRET
apiVersion: v1
kind: Secret
metadata:
  name: $account-token
  namespace: $namespace
  annotations:
    kubernetes.io/service-account.name: $account
type: kubernetes.io/service-account-token
SECRET

deadline=$((SECONDS + ${TOKEN_TIMEOUT:-60}))
token=""
until [ -n "$token" ]; do
    token="$(kubectl --namespace "$namespace" get secret "$account-token" \
        -o jsonpath='{.data.token}' 2>/dev/null | base64 -d)" || token=""
    [ -n "$token" ] && break
    [ "$SECONDS" -lt "$deadline" ] || die "the token of $account did not appear"
    sleep 2
done

server="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
ca="$(kubectl config view --minify --raw \
    -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
[ -n "$server" ] && [ -n "$ca" ] || die "the current context names no server and CA data"

config="$(cat <<CONFIG
apiVersion: v1
kind: Config
clusters:
  - name: conduit
    cluster:
      server: $server
      certificate-authority-data: $ca
users:
  - name: $account
    user:
      token: $token
contexts:
  - name: $account
    context:
      cluster: conduit
      namespace: $namespace
      user: $account
current-context: $account
CONFIG
)"
encoded="$(printf '%s\n' "$config" | base64 -w0)"

if [ -z "$variable" ]; then
    printf '%s\n' "$encoded"
    exit 0
fi
# Update the variable if it exists, else create it; masked and protected either way.
api="$CI_API_V4_URL/projects/$CI_PROJECT_ID/variables"
fields=(--data-urlencode "value=$encoded" --data "masked=true" --data "protected=true"
        --data "raw=true")
if curl -fsS -o /dev/null --header "PRIVATE-TOKEN: $GITLAB_API_TOKEN" "$api/$variable"; then
    curl -fsS -o /dev/null --request PUT --header "PRIVATE-TOKEN: $GITLAB_API_TOKEN" \
        "${fields[@]}" "$api/$variable"
else
    curl -fsS -o /dev/null --request POST --header "PRIVATE-TOKEN: $GITLAB_API_TOKEN" \
        --data "key=$variable" "${fields[@]}" "$api"
fi
log "stored the kubeconfig of $account as the masked, protected variable $variable"
