"""The projector processes of the stack: their /status (projection lag) and /readyz."""
import psutil
import requests

import procs

CONSUMERS = ("profiles", "articles")


def _listening_ports(proc: psutil.Process) -> list[int]:
    try:
        connections = (proc.net_connections(kind="tcp") if hasattr(proc, "net_connections")
                       else proc.connections(kind="tcp"))
    except psutil.Error:
        return []
    return [c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN]


def status_urls(env: dict | None = None) -> dict[str, str]:
    """{service: http://127.0.0.1:PORT} of each projector: <SERVICE>_PROJECTOR_PORT of the
    launcher's environment when it answers /status, else the port each projector worker
    found in our stack (`python -m conduit_<service>.projector --worker`) listens on."""
    found = {}
    for service in CONSUMERS:
        port = (env or {}).get(f"{service.upper()}_PROJECTOR_PORT")
        if not port:
            continue
        try:
            if requests.get(f"http://127.0.0.1:{port}/status", timeout=2).status_code == 200:
                found[service] = f"http://127.0.0.1:{port}"
        except requests.RequestException:
            pass
    if len(found) == len(CONSUMERS):
        return found
    for proc in procs.by_component()["projectors"]:
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        for service in CONSUMERS:
            if f"conduit_{service}.projector" in cmdline:
                for port in _listening_ports(proc):
                    found.setdefault(service, f"http://127.0.0.1:{port}")
    return found


def status(urls: dict[str, str], since: float | None = None) -> dict[str, list[dict]]:
    """{service: [{"name", "source", "state", "lag_ms": {...}}]}; errors as a state.
    `since` (unix time): only the lags of events applied from then on."""
    out = {}
    params = {"since": since} if since is not None else {}
    for service, url in sorted(urls.items()):
        try:
            resp = requests.get(f"{url}/status", params=params, timeout=5)
            resp.raise_for_status()
            out[service] = resp.json()["projections"]
        except (requests.RequestException, ValueError, KeyError) as ex:
            out[service] = [{"name": "?", "source": "?", "state": f"unreadable: {ex}",
                             "lag_ms": {}}]
    return out


def ready(urls: dict[str, str]) -> dict[str, bool]:
    out = {}
    for service, url in urls.items():
        try:
            out[service] = requests.get(f"{url}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            out[service] = False
    return out
