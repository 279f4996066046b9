"""Each service's internal API and metrics live on a port of their own, never routed,
and the internal API answers only callers with a service token it trusts."""
import requests

from conduit_common.keys import SigningKey
from conduit_common.service_auth import ServiceTokenSigner


def get(url, headers=None, consumer="articles"):
    """A feed read as `consumer` (it acknowledges 0, which never moves a position back)."""
    return requests.get(url, params={"consumer": consumer}, timeout=5, headers=headers)


def service_headers(local_stack, caller: str, audience: str) -> dict:
    """A service token signed with the stack's own key of `caller` (its run dir)."""
    pem = (local_stack.config.run_dir / "keys" / f"{caller}-service.pem").read_text()
    signer = ServiceTokenSigner(SigningKey.from_pem(caller, pem), audience)
    return {"Authorization": signer.authorization()}


def test_the_internal_api_is_404_on_the_public_port_and_through_the_gateway(local_stack, api):
    config = local_stack.config
    for service in ("auth", "profiles"):
        headers = service_headers(local_stack, "articles", service)
        assert get(f"{config.service_url(service)}/internal/events", headers).status_code == 404
        assert get(f"{config.internal_url(service)}/internal/events", headers).status_code == 200
        # A caller reads only as itself.
        assert get(f"{config.internal_url(service)}/internal/events", headers,
                   consumer="profiles").status_code == 403
    assert api.request("GET", "/internal/events").status_code == 404


def test_the_internal_api_refuses_callers_without_a_trusted_service_token(local_stack):
    config = local_stack.config
    for service in ("auth", "profiles"):
        url = f"{config.internal_url(service)}/internal/events"
        assert get(url).status_code == 401
        # profiles' projector reads auth, never profiles: profiles does not trust it.
        wrong = "profiles" if service == "profiles" else "articles"
        audience = "auth" if service == "profiles" else "profiles"
        assert get(url, service_headers(local_stack, wrong, audience)).status_code == 401
        stranger = ServiceTokenSigner(SigningKey.generate("articles"), service)
        assert get(url, {"Authorization": stranger.authorization()}).status_code == 401
        assert requests.get(f"{config.internal_url(service)}/healthz", timeout=5).ok


def test_public_routes_are_404_on_the_internal_port(local_stack):
    assert requests.get(f"{local_stack.config.internal_url('articles')}/api/tags",
                        timeout=5).status_code == 404


def test_metrics_count_requests_by_route_and_show_the_outbox_and_the_projector(
        local_stack, api):
    user = api.register("metrics")
    api.request("GET", f"/profiles/{user.username}")
    config = local_stack.config

    profiles = requests.get(f"{config.internal_url('profiles')}/metrics", timeout=5).text
    auth = requests.get(f"{config.internal_url('auth')}/metrics", timeout=5).text
    projector = requests.get(
        f"http://127.0.0.1:{config.ports['profiles_projector']}/metrics", timeout=5).text

    assert 'route="/api/profiles/{username}"' in profiles
    assert 'conduit_outbox_consumer_lag_seconds{consumer="profiles",owner="auth"}' in auth
    assert 'conduit_projector_events_applied_total{projection="auth-users"}' in projector
    assert requests.get(f"{config.service_url('auth')}/metrics", timeout=5).status_code == 404
