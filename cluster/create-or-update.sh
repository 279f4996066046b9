#!/usr/bin/env bash
# Create the kops cluster described by cluster/kops/, or bring an existing one in
# line with it, then wait (bounded) until `kops validate cluster` passes.
#
# Required: K8S_CLUSTER_NAME (the legacy spelling K8S_CLUSTER_NAEM still works),
#           KOPS_STATE_STORE, GCP_PROJECT, GCP_ZONE, ADMIN_CIDR (who may reach the API
#           and SSH: render-kops.sh refuses 0.0.0.0/0); GCP credentials for kops
#           (GOOGLE_APPLICATION_CREDENTIALS or gcloud's application default).
# Optional: everything render-kops.sh reads, and
#   KOPS_SSH_PUBLIC_KEY  path of an SSH public key registered when the cluster is created
#   ROLLING_UPDATE=1     roll the VMs after a spec change (otherwise only new VMs change)
#   VALIDATE_TIMEOUT     seconds to wait for a healthy cluster (default 1200)
#   VALIDATE_INTERVAL    seconds between attempts (default 30)
#   KUBECONFIG_TTL       lifetime of the exported admin credentials (default 8h)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo "create-or-update: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -z "${K8S_CLUSTER_NAME:-}" ] && [ -n "${K8S_CLUSTER_NAEM:-}" ]; then
    log "K8S_CLUSTER_NAEM is a legacy name, please set K8S_CLUSTER_NAME"
    K8S_CLUSTER_NAME="$K8S_CLUSTER_NAEM"
fi
export K8S_CLUSTER_NAME="${K8S_CLUSTER_NAME:-}"
timeout_s="${VALIDATE_TIMEOUT:-1200}"
interval_s="${VALIDATE_INTERVAL:-30}"
[[ "$timeout_s" =~ ^[0-9]+$ && "$interval_s" =~ ^[0-9]+$ ]] ||
    die "VALIDATE_TIMEOUT and VALIDATE_INTERVAL must be whole seconds"
command -v kops >/dev/null || die "kops is not on PATH"

manifest="$(mktemp)"
trap 'rm -f "$manifest"' EXIT
"$here/render-kops.sh" --require > "$manifest"
name="$K8S_CLUSTER_NAME"

if kops get cluster --name "$name" >/dev/null 2>&1; then
    log "cluster $name exists in $KOPS_STATE_STORE: replacing its spec"
    kops replace --filename "$manifest"
else
    log "cluster $name not found in $KOPS_STATE_STORE: creating it"
    kops create --filename "$manifest"
    if [ -n "${KOPS_SSH_PUBLIC_KEY:-}" ]; then
        kops create sshpublickey --name "$name" -i "$KOPS_SSH_PUBLIC_KEY"
    fi
fi

kops update cluster --name "$name" --yes
if [ "${ROLLING_UPDATE:-0}" = 1 ]; then
    kops rolling-update cluster --name "$name" --yes
fi
kops export kubecfg --name "$name" --admin="${KUBECONFIG_TTL:-8h}"

# New VMs need several minutes before every node and system pod is ready; a cluster
# that is still broken after the timeout fails the job instead of hanging it.
deadline=$((SECONDS + timeout_s))
attempt=1
until timeout 300 kops validate cluster --name "$name"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        die "cluster $name did not validate within ${timeout_s}s ($attempt attempts);" \
            "the last 'kops validate cluster' output above says what is not ready"
    fi
    log "attempt $attempt: not valid yet, retrying in ${interval_s}s"
    attempt=$((attempt + 1))
    sleep "$interval_s"
done
log "cluster $name is valid"
