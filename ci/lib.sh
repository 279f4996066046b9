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

# ci_sha256_is FILE SUM: whether FILE's SHA-256 is SUM.
ci_sha256_is() {
    [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# kops at KOPS_VERSION, verified against KOPS_SHA256 before it ever runs (both pinned
# in ci/deploy-tools.gitlab-ci.yml). A kops already on PATH is used only if it is
# that very binary; otherwise the release is downloaded into a private directory
# that goes first on PATH. A mismatch deletes the download and fails the job.
ci_install_kops() {
    local existing dir
    ci_require KOPS_VERSION KOPS_SHA256 || return 1
    existing="$(command -v kops 2>/dev/null)" || existing=""
    if [ -n "$existing" ] && ci_sha256_is "$existing" "$KOPS_SHA256"; then
        return 0
    fi
    dir="$(mktemp -d)" || return 1
    curl -fsSL -o "$dir/kops" \
        "https://github.com/kubernetes/kops/releases/download/v$KOPS_VERSION/kops-linux-amd64" ||
        ci_fail "could not download kops $KOPS_VERSION" || return 1
    if ! ci_sha256_is "$dir/kops" "$KOPS_SHA256"; then
        rm -rf "$dir"
        ci_fail "kops $KOPS_VERSION does not have the SHA-256 KOPS_SHA256 ($KOPS_SHA256):" \
            "not running it"
        return 1
    fi
    chmod +x "$dir/kops"
    PATH="$dir:$PATH"
    export PATH
}

# Credentials, kops and its variables: enough for cluster/create-or-update.sh.
ci_cloud_setup() {
    ci_gcp_credentials || return 1
    gcloud auth activate-service-account --quiet \
        --key-file "$GOOGLE_APPLICATION_CREDENTIALS" || return 1
    ci_kops_env || return 1
    ci_install_kops
}

# The deploy jobs' access to the cluster: the kubeconfig of the ServiceAccount
# conduit-deployer (namespace conduit only; k8s/deploy-access), made once by
# cluster/deploy-kubeconfig.sh and kept in the masked, protected variable
# KUBE_DEPLOY_CONFIG: base64 of the kubeconfig, or a GitLab File variable (a path).
# No cloud credentials and no cluster-admin. Also IMAGE_REGISTRY for cluster/deploy.sh.
ci_cluster_login() {
    ci_require KUBE_DEPLOY_CONFIG || return 1
    if [ -f "$KUBE_DEPLOY_CONFIG" ]; then
        KUBECONFIG="$KUBE_DEPLOY_CONFIG"
    else
        KUBECONFIG="$(mktemp)" || return 1
        printf '%s' "$KUBE_DEPLOY_CONFIG" | base64 -d >"$KUBECONFIG" 2>/dev/null &&
            grep -q '^kind: Config' "$KUBECONFIG" ||
            ci_fail "KUBE_DEPLOY_CONFIG is neither a file nor base64 of a kubeconfig" ||
            return 1
        chmod 600 "$KUBECONFIG"
    fi
    export KUBECONFIG
    IMAGE_REGISTRY="$(ci_image_registry)" || return 1
    export IMAGE_REGISTRY
}
