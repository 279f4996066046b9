"""Calls between services: pooled, bounded in time, and failing as a clean 503.

Built on urllib3, the connection pool under `requests`, without requests' Session
around it: the projectors are the only callers left, one long-poll at a time, and the
Session's per-call work (preparing the request, cookies, hooks, adapters) was about
a third of a projector's CPU under the bench's write mix (py-spy).
"""
import json
import logging
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError
from urllib3.util.retry import Retry

from conduit_common.errors import DependencyUnavailable
from conduit_common.logs import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger("conduit.http")


class PeerRefused(DependencyUnavailable):
    """The peer answered, but not 200; `status` says what it answered."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class InternalClient:
    """JSON GETs to one peer service over a keep-alive connection pool.

    Only GETs exist on the internal API, and they are idempotent, so a refused
    connection or a 502/503/504 is retried once. A read timeout is not retried:
    that would double the time the client waits for its 503. Proxy variables of the
    environment are not consulted: peers are addressed directly.
    """

    def __init__(self, base_url: str, peer: str, connect_timeout: float = 0.5,
                 read_timeout: float = 2.0, pool_size: int = 10,
                 authorization: Callable[[], str] | None = None):
        """`authorization` gives the Authorization header of each call (the caller's
        service token for this peer, service_auth.py); None sends none."""
        self._prefix = urlsplit(base_url).path.rstrip("/")
        self._peer = peer
        self._authorization = authorization
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        retry = Retry(total=1, connect=1, read=0, status=1, other=0,
                      allowed_methods=frozenset({"GET"}), status_forcelist=(502, 503, 504),
                      backoff_factor=0.05, raise_on_status=False)
        self._pool = urllib3.connection_from_url(base_url, maxsize=pool_size, retries=retry)

    def get_json(self, path: str, params=None, read_timeout: float | None = None) -> dict:
        """GET and decode; `read_timeout` overrides the client's (a long-poll needs more)."""
        headers = {"Accept": "application/json"}
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if self._authorization is not None:
            headers["Authorization"] = self._authorization()
        url = f"{self._prefix}{path}"
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        timeout = urllib3.Timeout(connect=self._connect_timeout,
                                  read=self._read_timeout if read_timeout is None else read_timeout)
        try:
            response = self._pool.request("GET", url, headers=headers, timeout=timeout)
        except HTTPError as ex:
            log.warning("%s unreachable: %s", self._peer, ex, extra={"peer": self._peer})
            raise self._unavailable() from ex
        if response.status != 200:
            # 5xx: the peer is failing; 4xx: we broke the contract. Either way the
            # client can do nothing about it but retry later.
            log.error("%s answered %s for %s", self._peer, response.status, path,
                      extra={"peer": self._peer, "status": response.status})
            raise PeerRefused(self._unavailable().message, response.status)
        try:
            return json.loads(response.data)
        except ValueError as ex:
            log.error("%s answered invalid JSON for %s", self._peer, path)
            raise self._unavailable() from ex

    def _unavailable(self) -> DependencyUnavailable:
        return DependencyUnavailable(f"{self._peer} service is unavailable, try again later")

    def close(self) -> None:
        self._pool.close()
