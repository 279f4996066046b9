#!/usr/bin/env bash
# Deploy Conduit, or one part of it, to the cluster of the current kubectl context.
#
# Usage: cluster/deploy.sh [-o OVERLAY] [-g] [-n] [TARGET]
#   TARGET  all (default) | shared | auth | profiles | articles | docs
#           shared = namespace, Postgres, Ingress and its JSON error backend
#           (`errors`, stock nginx), NetworkPolicies, config and secrets;
#           a service = its Deployment, Service, ServiceAccount, HPA, PDB (and route),
#           and its projector (<service>-projector, same image) where it has one,
#           plus the config and secrets they read; docs = the API docs page (its own
#           image, docker/docs.Dockerfile). CI runs `shared` once, then one service
#           per pipeline, and `docs` from the parent pipeline.
#   -o      overlay under k8s/overlays (default gce)
#   -g      route with Gateway API HTTPRoutes instead of the Ingress
#   -n      dry run: print the manifest that would be applied and stop
#
# Environment:
#   IMAGE_TAG        tag of the images, services and docs (default: the overlay's)
#   IMAGE_REGISTRY   registry path the images live under, e.g. $CI_REGISTRY_IMAGE
#                    (default: the overlay's); an image is $IMAGE_REGISTRY/<service>
#                    (and $IMAGE_REGISTRY/docs)
#   DB_USER DB_PASSWORD AUTH_DB_PASSWORD PROFILES_DB_PASSWORD
#   ARTICLES_DB_PASSWORD   the values of the conduit-secrets Secret (required)
#   JWT_PRIVATE_KEY JWT_PUBLIC_KEYS SERVICE_PUBLIC_KEYS PROFILES_SERVICE_KEY
#   ARTICLES_SERVICE_KEY   the token keys (required; PEM or JWKS text, or the path of
#                    a file holding it, as GitLab's file-type variables give): auth's
#                    private key, the public JWKS of user tokens (current + previous),
#                    the public JWKS of the service keys, each projector's private key.
#                    Generate them once: docs/operations.md, "Token keys"
#   AUTH_DB_OWNER_PASSWORD PROFILES_DB_OWNER_PASSWORD ARTICLES_DB_OWNER_PASSWORD
#                    the schema owners' passwords (migrations only; required)
#   CONDUIT_HOST     the public DNS name: the certificate, the Ingress/Gateway host and
#                    the printed URL (required, except with -n)
#   ACME_EMAIL       contact address of the ACME account (required for all/shared when
#                    the overlay issues from ACME, as gce does)
#   ACME_SERVER      ACME directory URL (default Let's Encrypt production; staging:
#                    https://acme-staging-v02.api.letsencrypt.org/directory)
#   TLS_ISSUER       acme (the overlay's default on gce) or selfsigned (no public DNS yet)
#   ROLLOUT_TIMEOUT  seconds to wait for each rollout (default 300)
#   ADDRESS_TIMEOUT  seconds to wait for the public address (default 180)
#   AUTO_ROLLBACK=1  undo a service's rollout when it does not finish in time
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
namespace=conduit   # k8s/base/kustomization.yaml
# What deploys on its own, each from an image of the same name: the three services
# and the API docs page.
services=(auth profiles articles docs)
# Everything a service's pipeline deploys: its own objects (app=<service>) and those
# of its projector (app=<service>-projector, the same image with `project`), if any.
apps_of() { echo "$1 $1-projector"; }
secret_keys=(DB_USER DB_PASSWORD AUTH_DB_PASSWORD PROFILES_DB_PASSWORD ARTICLES_DB_PASSWORD)
# The schema owners' passwords (the migrate init containers; db/bootstrap.sql).
secret_keys+=(AUTH_DB_OWNER_PASSWORD PROFILES_DB_OWNER_PASSWORD ARTICLES_DB_OWNER_PASSWORD)
# Token key variables -> the files k8s/base/kustomization.yaml makes them into
# (the auth-token-key and <service>-service-key Secrets, the conduit-token-keys
# ConfigMap of public keys).
declare -A key_files=(
    [JWT_PRIVATE_KEY]=auth-user-token.pem
    [JWT_PUBLIC_KEYS]=user-token.jwks.json
    [SERVICE_PUBLIC_KEYS]=service-keys.jwks.json
    [PROFILES_SERVICE_KEY]=profiles-service.pem
    [ARTICLES_SERVICE_KEY]=articles-service.pem
)

log() { echo "deploy: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '3,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
# The placeholder host of k8s/components/tls and gateway-api, replaced by CONDUIT_HOST.
placeholder_host=conduit.example.com
lets_encrypt=https://acme-v02.api.letsencrypt.org/directory

overlay=gce gateway_api=0 dry_run=0
while getopts "o:gnh" opt; do
    case "$opt" in
        o) overlay="$OPTARG" ;;
        g) gateway_api=1 ;;
        n) dry_run=1 ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
target="${1:-all}"
[ $# -le 1 ] || usage
case " all shared ${services[*]} " in
    *" $target "*) ;;
    *) die "unknown target '$target' (all, shared, ${services[*]})" ;;
esac
[ -f "$root/k8s/overlays/$overlay/kustomization.yaml" ] || die "no overlay k8s/overlays/$overlay"

missing=()
for key in "${secret_keys[@]}" "${!key_files[@]}"; do
    [ -n "${!key:-}" ] || missing+=("$key")
done
[ "${#missing[@]}" -eq 0 ] || die "secret variables not set: ${missing[*]}"
case "${TLS_ISSUER:-acme}" in
    acme | selfsigned) ;;
    *) die "TLS_ISSUER must be acme or selfsigned, not '$TLS_ISSUER'" ;;
esac
host="${CONDUIT_HOST:-}"
if [ -z "$host" ]; then
    [ "$dry_run" = 1 ] || die "CONDUIT_HOST is not set: the public DNS name to serve" \
        "(and to issue the certificate for)"
    log "CONDUIT_HOST is not set: the manifest keeps the placeholder $placeholder_host"
    host="$placeholder_host"
fi
[[ "$host" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$ ]] ||
    die "CONDUIT_HOST '$host' is not a lower-case DNS name (e.g. api.example.com)"
acme_server="${ACME_SERVER:-$lets_encrypt}"
[[ "$acme_server" =~ ^https://[^[:space:]\"]+$ ]] || die "ACME_SERVER must be an https:// URL"
if [ -n "${ACME_EMAIL:-}" ]; then
    [[ "$ACME_EMAIL" =~ ^[^[:space:]@\"]+@[^[:space:]@\"]+\.[^[:space:]@\"]+$ ]] ||
        die "ACME_EMAIL '$ACME_EMAIL' is not an e-mail address"
fi
timeout_s="${ROLLOUT_TIMEOUT:-300}"
address_timeout_s="${ADDRESS_TIMEOUT:-180}"

# Render from a private copy: the secrets file never lands in the working tree.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$root/k8s" "$root/db" "$work/"
# The public host, wherever the manifests name it (certificate, Ingress, Gateway).
grep -rlF --include='*.yaml' "$placeholder_host" "$work/k8s" |
    while read -r file; do sed -i "s/conduit\.example\.com/$host/g" "$file"; done
(
    umask 077
    for key in "${secret_keys[@]}"; do
        value="${!key:-}"
        [[ "$value" != *$'\n'* ]] || die "$key must be a single line"
        printf '%s=%s\n' "$key" "$value"
    done > "$work/k8s/base/secrets.env"
    mkdir -p "$work/k8s/base/keys"
    for key in "${!key_files[@]}"; do
        value="${!key}"
        file="$work/k8s/base/keys/${key_files[$key]}"
        # A file-type CI variable holds the path of a file with the key.
        if [[ "$value" != *$'\n'* && -f "$value" ]]; then
            cp "$value" "$file"
        else
            printf '%s\n' "$value" > "$file"
        fi
        case "$key" in
            *_KEY) grep -q 'BEGIN PRIVATE KEY' "$file" || die "$key is not a PEM private key" ;;
            *) grep -q '"keys"' "$file" || die "$key is not a JWKS ({\"keys\": [...]})" ;;
        esac
    done
)

# The image name to override is whatever the overlay made of the base name.
overlay_image_name() {
    local name
    name="$(sed -n "s#^[[:space:]]*newName:[[:space:]]*\([^[:space:]]*/$1\)[[:space:]]*\$#\1#p" \
        "$root/k8s/overlays/$overlay/kustomization.yaml")"
    echo "${name:-$1}"
}

mkdir "$work/deploy"
{
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources:"
    echo "  - ../k8s/overlays/$overlay"
    if [ "$gateway_api" = 1 ] || [ "${TLS_ISSUER:-}" = selfsigned ]; then
        echo "components:"
    fi
    # After the overlay's tls component (a second one would find nothing to delete).
    if [ "${TLS_ISSUER:-}" = selfsigned ] &&
        ! grep -q 'components/tls-selfsigned' "$root/k8s/overlays/$overlay/kustomization.yaml"; then
        echo "  - ../k8s/components/tls-selfsigned"
    fi
    [ "$gateway_api" = 0 ] || echo "  - ../k8s/components/gateway-api"
    # The ACME account of the ClusterIssuer (no match when the issuer is self-signed).
    echo "patches:"
    echo "  - target: {group: cert-manager.io, kind: ClusterIssuer, name: conduit-acme}"
    echo "    patch: |-"
    echo "      - {op: replace, path: /spec/acme/server, value: \"$acme_server\"}"
    if [ -n "${ACME_EMAIL:-}" ]; then
        echo "      - {op: replace, path: /spec/acme/email, value: \"$ACME_EMAIL\"}"
    fi
    if [ -n "${IMAGE_TAG:-}" ] || [ -n "${IMAGE_REGISTRY:-}" ]; then
        echo "images:"
        for svc in "${services[@]}"; do
            echo "  - name: $(overlay_image_name "$svc")"
            [ -z "${IMAGE_REGISTRY:-}" ] || echo "    newName: ${IMAGE_REGISTRY%/}/$svc"
            [ -z "${IMAGE_TAG:-}" ] || echo "    newTag: \"$IMAGE_TAG\""
        done
    fi
} > "$work/deploy/kustomization.yaml"

rendered="$work/rendered.yaml"
kubectl kustomize "$work/deploy" > "$rendered"
if [ "$dry_run" = 1 ]; then
    cat "$rendered"
    exit 0
fi
# The ClusterIssuer goes out with the shared objects: it needs a real contact address.
if [ "$target" = all ] || [ "$target" = shared ]; then
    if grep -qx "kind: ClusterIssuer" "$rendered" && grep -q "name: conduit-acme$" "$rendered" &&
        [ -z "${ACME_EMAIL:-}" ]; then
        die "ACME_EMAIL is not set: the ACME account's contact address (or TLS_ISSUER=selfsigned)"
    fi
fi

# The Deployments of the rendered manifest, one name a line.
deployments() {
    awk '/^---/ { kind = "" } /^kind: / { kind = $2 }
         kind == "Deployment" && /^  name: / { print $2 }' "$rendered"
}

apply() { # [label selector]: only the objects it selects
    log "applying ${1:-everything}"
    kubectl apply --filename "$rendered" ${1:+--selector "$1"}
}

wait_rollout() { # kind/name
    if kubectl --namespace "$namespace" rollout status "$1" --timeout="${timeout_s}s"; then
        return 0
    fi
    kubectl --namespace "$namespace" get pods --selector "app=${1#*/}" -o wide >&2 || true
    if [ "${AUTO_ROLLBACK:-0}" = 1 ] && [ "${1%%/*}" = deployment ]; then
        log "rolling $1 back to its previous revision"
        kubectl --namespace "$namespace" rollout undo "$1" >&2 || true
    fi
    die "$1 did not become ready within ${timeout_s}s (see the pods above;" \
        "'kubectl -n $namespace logs <pod> -c migrate' shows a failed migration)"
}

print_address() {
    local kind=ingress jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}'
    if [ "$gateway_api" = 1 ]; then
        kind=gateway jsonpath='{.status.addresses[0].value}'
    fi
    local deadline=$((SECONDS + address_timeout_s)) address=""
    while :; do
        address="$(kubectl --namespace "$namespace" get "$kind" conduit -o "jsonpath=$jsonpath" \
            2>/dev/null || true)"
        if [ -n "$address" ] || [ "$SECONDS" -ge "$deadline" ]; then
            break
        fi
        sleep 5
    done
    if [ -z "$address" ]; then
        log "WARNING: the $kind has no address after ${address_timeout_s}s;" \
            "is its controller installed (docs/operations.md)?"
        echo "Conduit will be served at https://$host/flask/api once $host points at the $kind"
        return 0
    fi
    echo "Conduit is served at https://$host/flask/api"
    echo "(the $kind's address is $address: point $host at it; plain HTTP redirects to HTTPS)"
}

wait_service() { # service: its Deployment, then its projector's if the manifest has one
    local app
    for app in $(apps_of "$1"); do
        # Not grep -q: an early exit would fail the pipeline (pipefail, SIGPIPE).
        if deployments | grep -Fx "$app" >/dev/null; then
            wait_rollout "deployment/$app"
        fi
    done
}

wait_database() { # the single StatefulSet (dev) or the CloudNativePG Cluster (gce)
    if grep -qx "kind: Cluster" "$rendered"; then
        log "waiting for the Postgres cluster conduit-db (CloudNativePG)"
        kubectl --namespace "$namespace" wait cluster/conduit-db --for=condition=Ready \
            --timeout="${timeout_s}s" ||
            die "cluster/conduit-db is not ready: is the operator installed" \
                "(docs/operations.md)? kubectl -n $namespace get cluster,pods"
    else
        wait_rollout statefulset/postgres
    fi
}

case "$target" in
    all)
        apply
        wait_database
        for svc in "${services[@]}"; do wait_service "$svc"; done
        ;;
    shared)
        owned=()
        for svc in "${services[@]}"; do
            read -r -a apps <<<"$(apps_of "$svc")"
            owned+=("${apps[@]}")
        done
        apply "app notin ($(IFS=,; echo "${owned[*]}"))"
        wait_database
        ;;
    *)
        # The Deployment names hashed config and secrets: they must exist first.
        apply "app.kubernetes.io/component=config"
        read -r -a apps <<<"$(apps_of "$target")"
        apply "app in ($(IFS=,; echo "${apps[*]}"))"
        wait_service "$target"
        ;;
esac
print_address
