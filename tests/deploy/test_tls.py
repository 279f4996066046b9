"""TLS at the edge (k8s/components/tls, gateway-api): what the rendered manifests mean.

The structure of the cert-manager and Gateway API objects is checked against their own
CRD schemas with ../shared/tools/validate-crds; the meaning (hosts, secrets, redirect,
HSTS, issuers) is checked here.
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
HSTS = "max-age=31536000"
ACME = "https://acme-v02.api.letsencrypt.org/directory"


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def certificate(docs):
    (cert,) = by_kind(docs, "Certificate")
    return cert


def test_custom_resources_pass_their_crd_schemas(render, target, tmp_path, validate_crds):
    manifest = tmp_path / f"{target}.yaml"
    manifest.write_text(render(target))
    result = subprocess.run([sys.executable, str(validate_crds), str(manifest)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_target_has_a_certificate_from_a_conduit_issuer(docs, target):
    rendered = docs(target)
    cert = certificate(rendered)
    issuers = {d["metadata"]["name"]: d for d in by_kind(rendered, "ClusterIssuer")}
    ref = cert["spec"]["issuerRef"]
    assert ref["kind"] == "ClusterIssuer" and ref["name"] in issuers
    assert cert["spec"]["secretName"] == "conduit-tls"
    assert cert["spec"]["dnsNames"]


def test_gce_issues_from_acme_over_http01_and_dev_signs_itself(docs):
    gce = docs("gce")
    assert certificate(gce)["spec"]["issuerRef"]["name"] == "conduit-acme"
    (acme,) = [d for d in by_kind(gce, "ClusterIssuer") if d["metadata"]["name"] == "conduit-acme"]
    assert acme["spec"]["acme"]["server"] == ACME
    assert "@" in acme["spec"]["acme"]["email"]
    assert [list(s["http01"]) for s in acme["spec"]["acme"]["solvers"]] == [["ingress"]]
    dev = docs("dev")
    assert certificate(dev)["spec"]["issuerRef"]["name"] == "conduit-selfsigned"
    assert {d["metadata"]["name"] for d in by_kind(dev, "ClusterIssuer")} == {"conduit-selfsigned"}


def test_ingresses_serve_the_certificate_for_their_host_redirect_and_send_hsts(docs, overlay):
    rendered = docs(overlay)
    cert = certificate(rendered)
    ingresses = by_kind(rendered, "Ingress")
    assert {i["metadata"]["name"] for i in ingresses} == {
        "conduit", "conduit-login", "conduit-register", "conduit-docs"}
    (headers,) = [d for d in by_kind(rendered, "ConfigMap")
                  if d["metadata"]["name"] == "conduit-response-headers"]
    assert headers["data"]["Strict-Transport-Security"] == HSTS
    for ingress in ingresses:
        (tls,) = ingress["spec"]["tls"]
        assert tls["secretName"] == cert["spec"]["secretName"]
        assert tls["hosts"] == cert["spec"]["dnsNames"]
        assert {r["host"] for r in ingress["spec"]["rules"]} <= set(tls["hosts"])
        notes = ingress["metadata"]["annotations"]
        assert notes["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
        assert notes["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
        assert notes["nginx.ingress.kubernetes.io/custom-headers"] == (
            "conduit/conduit-response-headers")


def listeners(rendered):
    (gateway,) = by_kind(rendered, "Gateway")
    return {ln["name"]: ln for ln in gateway["spec"]["listeners"]}


def test_gateway_https_listener_serves_the_certificate_for_its_host(docs, gateway_target):
    rendered = docs(gateway_target)
    cert = certificate(rendered)
    https = listeners(rendered)["https"]
    assert https["tls"]["mode"] == "Terminate"
    assert https["tls"]["certificateRefs"] == [
        {"group": "", "kind": "Secret", "name": cert["spec"]["secretName"]}]
    assert [https["hostname"]] == cert["spec"]["dnsNames"]


def test_plain_http_on_the_gateway_only_redirects_to_https(docs, gateway_target):
    rendered = docs(gateway_target)
    on_http = [r for r in by_kind(rendered, "HTTPRoute")
               if any(p.get("sectionName") == "http" for p in r["spec"]["parentRefs"])]
    (redirect,) = on_http
    assert {p.get("sectionName") for p in redirect["spec"]["parentRefs"]} == {"http"}
    (rule,) = redirect["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert "backendRefs" not in rule
    assert rule["filters"] == [{"type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301}}]


def test_every_api_route_is_on_https_only_and_sends_hsts(docs, gateway_target):
    for route in by_kind(docs(gateway_target), "HTTPRoute"):
        if route["metadata"]["name"] == "https-redirect":
            continue
        assert {p.get("sectionName") for p in route["spec"]["parentRefs"]} == {"https"}
        for rule in route["spec"]["rules"]:
            headers = [f["responseHeaderModifier"]["set"] for f in rule["filters"]
                       if f["type"] == "ResponseHeaderModifier"]
            assert headers == [[{"name": "Strict-Transport-Security", "value": HSTS}]]


def test_acme_challenges_go_through_the_gateway_when_it_replaces_the_ingress(docs):
    (acme,) = [d for d in by_kind(docs("gce+gateway-api"), "ClusterIssuer")
               if d["metadata"]["name"] == "conduit-acme"]
    (solver,) = acme["spec"]["acme"]["solvers"]
    (parent,) = solver["http01"]["gatewayHTTPRoute"]["parentRefs"]
    assert (parent["name"], parent["namespace"], parent["sectionName"]) == (
        "conduit", "conduit", "http")
