#!/usr/bin/env bash
# Print the kops manifest for GCE (the Cluster, then its InstanceGroups) with the
# values of cluster/kops/*.yaml.tmpl taken from the environment.
#
# Usage: cluster/render-kops.sh [--require]
#   Without --require, an unset required variable gets an example value (with a
#   note on stderr), so `make kops-manifest` always shows a complete manifest.
#   With --require (create-or-update.sh), an unset required variable is an error.
#
# Required: K8S_CLUSTER_NAME (legacy spelling K8S_CLUSTER_NAEM is accepted),
#           KOPS_STATE_STORE (gs://bucket), GCP_PROJECT, GCP_ZONE (e.g. europe-west1-b),
#           ADMIN_CIDR (the one IPv4 range that may reach the Kubernetes API and SSH,
#           e.g. 198.51.100.0/24; never 0.0.0.0/0)
# Optional: GCP_REGION (default: derived from GCP_ZONE), KUBERNETES_VERSION (1.32.4),
#           CONTROL_PLANE_MACHINE_TYPE (e2-standard-2), NODE_MACHINE_TYPE (e2-standard-2),
#           NODE_MIN_SIZE (2), NODE_MAX_SIZE (4)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "render-kops: $*" >&2; exit 1; }

require=0
case "${1:-}" in
    --require) require=1 ;;
    "") ;;
    *) die "unknown argument $1 (usage: render-kops.sh [--require])" ;;
esac

if [ -z "${K8S_CLUSTER_NAME:-}" ] && [ -n "${K8S_CLUSTER_NAEM:-}" ]; then
    echo "render-kops: K8S_CLUSTER_NAEM is a legacy name, please set K8S_CLUSTER_NAME" >&2
    K8S_CLUSTER_NAME="$K8S_CLUSTER_NAEM"
fi

declare -A example=(
    [K8S_CLUSTER_NAME]=conduit.k8s.local
    [KOPS_STATE_STORE]=gs://conduit-kops-state
    [GCP_PROJECT]=conduit-example
    [GCP_ZONE]=europe-west1-b
    [ADMIN_CIDR]=198.51.100.0/24
)
missing=()
for var in K8S_CLUSTER_NAME KOPS_STATE_STORE GCP_PROJECT GCP_ZONE ADMIN_CIDR; do
    [ -n "${!var:-}" ] && continue
    if [ "$require" = 1 ]; then
        missing+=("$var")
    else
        echo "render-kops: $var is not set, using the example value ${example[$var]}" >&2
        printf -v "$var" '%s' "${example[$var]}"
    fi
done
[ "${#missing[@]}" -eq 0 ] || die "required variables not set: ${missing[*]}"

KOPS_STATE_STORE="${KOPS_STATE_STORE%/}"
GCP_REGION="${GCP_REGION:-${GCP_ZONE%-*}}"
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.32.4}"
CONTROL_PLANE_MACHINE_TYPE="${CONTROL_PLANE_MACHINE_TYPE:-e2-standard-2}"
NODE_MACHINE_TYPE="${NODE_MACHINE_TYPE:-e2-standard-2}"
NODE_MIN_SIZE="${NODE_MIN_SIZE:-2}"
NODE_MAX_SIZE="${NODE_MAX_SIZE:-4}"

# Catch the typical slips here rather than halfway through a kops run.
[[ "$K8S_CLUSTER_NAME" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$ ]] ||
    die "K8S_CLUSTER_NAME '$K8S_CLUSTER_NAME' is not a lower-case dotted DNS name"
[[ "$KOPS_STATE_STORE" =~ ^gs://[a-z0-9._-]+(/.*)?$ ]] ||
    die "KOPS_STATE_STORE '$KOPS_STATE_STORE' is not a gs:// bucket URL"
[[ "$GCP_ZONE" =~ ^[a-z]+-[a-z]+[0-9]+-[a-z]$ ]] ||
    die "GCP_ZONE '$GCP_ZONE' does not look like a zone (e.g. europe-west1-b)"
[[ "$ADMIN_CIDR" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]] ||
    die "ADMIN_CIDR '$ADMIN_CIDR' is not one IPv4 range (e.g. 198.51.100.0/24: the" \
        "addresses allowed to reach the Kubernetes API and SSH)"
[[ "$ADMIN_CIDR" != */0 ]] ||
    die "ADMIN_CIDR $ADMIN_CIDR would open the Kubernetes API and SSH to the whole" \
        "internet: name the range of your office, VPN or CI runners"
[[ "$NODE_MIN_SIZE" =~ ^[0-9]+$ && "$NODE_MAX_SIZE" =~ ^[0-9]+$ ]] ||
    die "NODE_MIN_SIZE and NODE_MAX_SIZE must be whole numbers"
[ "$NODE_MIN_SIZE" -le "$NODE_MAX_SIZE" ] || die "NODE_MIN_SIZE is larger than NODE_MAX_SIZE"

vars=(K8S_CLUSTER_NAME KOPS_STATE_STORE GCP_PROJECT GCP_ZONE GCP_REGION KUBERNETES_VERSION
      ADMIN_CIDR CONTROL_PLANE_MACHINE_TYPE NODE_MACHINE_TYPE NODE_MIN_SIZE NODE_MAX_SIZE)
export "${vars[@]}"
# Only these names are substituted; any other $ in the templates stays as it is.
# shellcheck disable=SC2016  # the literal ${NAME} list is envsubst's argument
shell_format="$(printf '${%s} ' "${vars[@]}")"

first=1
for part in cluster control-plane nodes; do
    [ "$first" = 1 ] || echo "---"
    first=0
    envsubst "$shell_format" < "$here/kops/$part.yaml.tmpl"
done
