"""The cluster scripts' security settings: ADMIN_CIDR required, TLS variables of deploy.sh."""
import pathlib
import subprocess

import yaml

from conduit_common.testing.keys import deploy_variables

CLUSTER = pathlib.Path(__file__).resolve().parents[2] / "cluster"
CLUSTER_VARS = {"K8S_CLUSTER_NAME": "demo.k8s.local", "KOPS_STATE_STORE": "gs://demo-state",
                "GCP_PROJECT": "demo-project", "GCP_ZONE": "us-central1-a"}
SECRETS = {"DB_USER": "postgres", "DB_PASSWORD": "admin-pw",
           "AUTH_DB_PASSWORD": "auth-pw", "PROFILES_DB_PASSWORD": "profiles-pw",
           "ARTICLES_DB_PASSWORD": "articles-pw", "AUTH_DB_OWNER_PASSWORD": "auth-owner-pw",
           "PROFILES_DB_OWNER_PASSWORD": "profiles-owner-pw",
           "ARTICLES_DB_OWNER_PASSWORD": "articles-owner-pw", **deploy_variables()}


def run(args, env):
    return subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True,
                          check=False, timeout=120)


def test_admin_cidr_is_required_and_never_the_whole_internet(clean_env):
    missing = run([CLUSTER / "render-kops.sh", "--require"], {**clean_env, **CLUSTER_VARS})
    assert missing.returncode != 0 and "ADMIN_CIDR" in missing.stderr
    for value in ("0.0.0.0/0", "10.0.0.0", "not-a-cidr"):
        refused = run([CLUSTER / "render-kops.sh", "--require"],
                      {**clean_env, **CLUSTER_VARS, "ADMIN_CIDR": value})
        assert refused.returncode != 0 and "ADMIN_CIDR" in refused.stderr, value
    ok = run([CLUSTER / "render-kops.sh", "--require"],
             {**clean_env, **CLUSTER_VARS, "ADMIN_CIDR": "198.51.100.0/24"})
    assert ok.returncode == 0, ok.stderr
    cluster = next(yaml.safe_load_all(ok.stdout))
    assert cluster["spec"]["kubernetesApiAccess"] == ["198.51.100.0/24"]
    assert cluster["spec"]["sshAccess"] == ["198.51.100.0/24"]


def rendered(clean_env, *args, **extra):
    result = run([CLUSTER / "deploy.sh", "-n", *args], {**clean_env, **SECRETS, **extra})
    assert result.returncode == 0, result.stderr
    return result.stdout, [d for d in yaml.safe_load_all(result.stdout) if d]


def test_deploy_puts_the_host_and_the_acme_account_into_the_manifest(clean_env):
    for args in ((), ("-g",)):
        text, docs = rendered(clean_env, *args, CONDUIT_HOST="api.conduit.test",
                              ACME_EMAIL="ops@conduit.test",
                              ACME_SERVER="https://acme-staging-v02.api.letsencrypt.org/directory")
        assert "example.com" not in text
        (cert,) = [d for d in docs if d["kind"] == "Certificate"]
        assert cert["spec"]["dnsNames"] == ["api.conduit.test"]
        (acme,) = [d for d in docs if d["kind"] == "ClusterIssuer"
                   if d["metadata"]["name"] == "conduit-acme"]
        assert acme["spec"]["acme"]["email"] == "ops@conduit.test"
        assert "staging" in acme["spec"]["acme"]["server"]


def test_deploy_can_switch_to_the_self_signed_issuer(clean_env):
    for overlay in ("gce", "dev"):
        _, docs = rendered(clean_env, "-o", overlay, CONDUIT_HOST="api.conduit.test",
                           TLS_ISSUER="selfsigned")
        (cert,) = [d for d in docs if d["kind"] == "Certificate"]
        assert cert["spec"]["issuerRef"]["name"] == "conduit-selfsigned"


def test_deploy_refuses_to_apply_without_host_or_acme_account(clean_env):
    no_host = run([CLUSTER / "deploy.sh", "shared"], {**clean_env, **SECRETS})
    assert no_host.returncode != 0 and "CONDUIT_HOST is not set" in no_host.stderr
    bad_host = run([CLUSTER / "deploy.sh", "-n"], {**clean_env, **SECRETS,
                                                   "CONDUIT_HOST": "api.conduit.test/x"})
    assert bad_host.returncode != 0 and "CONDUIT_HOST" in bad_host.stderr
    no_email = run([CLUSTER / "deploy.sh", "shared"],
                   {**clean_env, **SECRETS, "CONDUIT_HOST": "api.conduit.test"})
    assert no_email.returncode != 0 and "ACME_EMAIL is not set" in no_email.stderr
