"""The public port and the internal port of a service.

gunicorn listens on both (gunicorn_defaults: PORT and INTERNAL_PORT). The gateway and
the Ingress only ever send traffic to the public port; the internal API (`/internal/...`:
event feeds, snapshots) and `/metrics` answer only on the internal port, which only
the projectors and Prometheus may reach (NetworkPolicies). Health answers on both.

The port a request arrived on is read from the accepted socket, never from the Host
header, which the client chooses.
"""
import falcon

PRIVATE_PREFIX = "/internal/"
PRIVATE_PATHS = frozenset({"/metrics"})
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


def is_private(path: str) -> bool:
    return path.startswith(PRIVATE_PREFIX) or path in PRIVATE_PATHS


def arrival_port(req) -> int | None:
    sock = req.env.get("gunicorn.socket")
    try:
        return sock.getsockname()[1] if sock is not None else None
    except OSError:
        return None


class PortSplitMiddleware:
    """404 for private paths on the public port and for public paths on the internal one.

    With no internal port configured (tests, scripts) every path answers everywhere.
    """

    def __init__(self, internal_port: int | None):
        self._internal_port = internal_port

    def process_request(self, req, resp):
        if self._internal_port is None or req.path in HEALTH_PATHS:
            return
        on_internal = arrival_port(req) == self._internal_port
        if is_private(req.path) != on_internal:
            raise falcon.HTTPNotFound()
