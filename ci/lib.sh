# shellcheck shell=sh disable=SC3043
# Helpers for the CI jobs, loaded with `. ci/lib.sh`. Plain sh (plus `local`,
# which busybox, dash and bash all have), because the docker image has only
# busybox. Every function names the variable it misses.
# docs/ci.md lists the variables and the jobs that use them.

ci_fail() {
    echo "ci: $*" >&2
    return 1
}

# ci_require NAME...: fail unless every named variable is set and not empty.
ci_require() {
    local name value
    for name in "$@"; do
        eval "value=\${$name:-}"
        [ -n "$value" ] || ci_fail "$name is not set" || return 1
    done
}

# The image tag: the git tag on tag pipelines, else the short commit sha.
# Characters a Docker tag cannot hold become '-'.
ci_image_tag() {
    local tag="${CI_COMMIT_TAG:-${CI_COMMIT_SHORT_SHA:-}}"
    [ -n "$tag" ] || ci_fail "neither CI_COMMIT_TAG nor CI_COMMIT_SHORT_SHA is set" || return 1
    printf '%s' "$tag" | tr -c 'A-Za-z0-9_.-' '-' | cut -c1-128
}

# Where images go: IMAGE_REGISTRY when set; else the Docker Hub style account
# DOCKER_REGISTRY_USER on DOCKER_REGISTRY (default docker.io); else the
# project's own GitLab registry.
ci_image_registry() {
    if [ -n "${IMAGE_REGISTRY:-}" ]; then
        printf '%s\n' "$IMAGE_REGISTRY"
    elif [ -n "${DOCKER_REGISTRY_USER:-}" ]; then
        printf '%s/%s\n' "${DOCKER_REGISTRY:-docker.io}" "$DOCKER_REGISTRY_USER"
    elif [ -n "${CI_REGISTRY_IMAGE:-}" ]; then
        printf '%s\n' "$CI_REGISTRY_IMAGE"
    else
        ci_fail "no registry: set DOCKER_REGISTRY_USER (or IMAGE_REGISTRY)"
    fi
}

# ci_image SERVICE: the full reference of that service's image for this pipeline.
ci_image() {
    local registry tag
    [ -n "${1:-}" ] || ci_fail "ci_image needs a service name" || return 1
    registry="$(ci_image_registry)" || return 1
    tag="$(ci_image_tag)" || return 1
    printf '%s/%s:%s\n' "$registry" "$1" "$tag"
}

# Log docker in to the registry host of ci_image_registry. The seed keeps
# DOCKER_REGISTRY_PASSWORD base64-encoded; without DOCKER_REGISTRY_USER the
# job's own GitLab registry credentials are used.
ci_registry_login() {
    local registry host password
    registry="$(ci_image_registry)" || return 1
    host="${registry%%/*}"
    if [ -n "${DOCKER_REGISTRY_USER:-}" ]; then
        ci_require DOCKER_REGISTRY_PASSWORD || return 1
        password="$(printf '%s' "$DOCKER_REGISTRY_PASSWORD" | base64 -d 2>/dev/null)" &&
            [ -n "$password" ] ||
            ci_fail "DOCKER_REGISTRY_PASSWORD is not base64 (encode it: base64 -w0)" || return 1
        printf '%s' "$password" |
            docker login --username "$DOCKER_REGISTRY_USER" --password-stdin "$host"
    else
        ci_require CI_REGISTRY_USER CI_REGISTRY_PASSWORD || return 1
        printf '%s' "$CI_REGISTRY_PASSWORD" |
            docker login --username "$CI_REGISTRY_USER" --password-stdin "$host"
    fi
}

# Point GOOGLE_APPLICATION_CREDENTIALS at the service account key. The key may
# be a GitLab "File" variable (a path), or the JSON itself, or that JSON in base64.
ci_gcp_credentials() {
    ci_require GCP_CREDENTIAL_FILE || return 1
    if [ -f "$GCP_CREDENTIAL_FILE" ]; then
        GOOGLE_APPLICATION_CREDENTIALS="$GCP_CREDENTIAL_FILE"
    else
        GOOGLE_APPLICATION_CREDENTIALS="$(mktemp)" || return 1
        case "$(printf '%s' "$GCP_CREDENTIAL_FILE" | tr -d ' \t\r\n' | cut -c1)" in
            "{") printf '%s\n' "$GCP_CREDENTIAL_FILE" >"$GOOGLE_APPLICATION_CREDENTIALS" ;;
            *) printf '%s' "$GCP_CREDENTIAL_FILE" | base64 -d >"$GOOGLE_APPLICATION_CREDENTIALS" ||
                ci_fail "GCP_CREDENTIAL_FILE is neither a file, JSON nor base64 JSON" ||
                return 1 ;;
        esac
    fi
    export GOOGLE_APPLICATION_CREDENTIALS
}

# The variables kops reads. K8S_CLUSTER_NAEM is the seed's spelling, still accepted.
ci_kops_env() {
    K8S_CLUSTER_NAME="${K8S_CLUSTER_NAME:-${K8S_CLUSTER_NAEM:-}}"
    [ -n "$K8S_CLUSTER_NAME" ] ||
        ci_fail "K8S_CLUSTER_NAME is not set (nor the seed's K8S_CLUSTER_NAEM)" || return 1
    ci_require KOPS_STATE_STORE || return 1
    export K8S_CLUSTER_NAME KOPS_STATE_STORE
    if [ -n "${KOPS_FEATURE_FLAGS:-}" ]; then
        export KOPS_FEATURE_FLAGS
    fi
}

ci_install_kops() {
    command -v kops >/dev/null 2>&1 && return 0
    ci_require KOPS_VERSION || return 1
    curl -fsSL -o /usr/local/bin/kops \
        "https://github.com/kubernetes/kops/releases/download/v$KOPS_VERSION/kops-linux-amd64" &&
        chmod +x /usr/local/bin/kops
}

# Credentials, kops and its variables: enough for cluster/create-or-update.sh.
ci_cloud_setup() {
    ci_gcp_credentials || return 1
    gcloud auth activate-service-account --quiet \
        --key-file "$GOOGLE_APPLICATION_CREDENTIALS" || return 1
    ci_kops_env || return 1
    ci_install_kops
}

# ci_cloud_setup plus a kubeconfig for the cluster and IMAGE_REGISTRY for
# cluster/deploy.sh.
ci_cluster_login() {
    ci_cloud_setup || return 1
    kops export kubecfg "$K8S_CLUSTER_NAME" --admin || return 1
    IMAGE_REGISTRY="$(ci_image_registry)" || return 1
    export IMAGE_REGISTRY
}
