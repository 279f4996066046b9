"""Calls between services: pooled, bounded in time, and failing as a clean 503."""
import logging
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter
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
    that would double the time the client waits for its 503.
    """

    def __init__(self, base_url: str, peer: str, connect_timeout: float = 0.5,
                 read_timeout: float = 2.0, pool_size: int = 10,
                 session: requests.Session | None = None,
                 authorization: Callable[[], str] | None = None):
        """`authorization` gives the Authorization header of each call (the caller's
        service token for this peer, service_auth.py); None sends none."""
        self._base_url = base_url.rstrip("/")
        self._peer = peer
        self._authorization = authorization
        self._timeout = (connect_timeout, read_timeout)
        self._session = session or self._pooled_session(pool_size)

    @staticmethod
    def _pooled_session(pool_size: int) -> requests.Session:
        retry = Retry(total=1, connect=1, read=0, status=1, other=0,
                      allowed_methods=frozenset({"GET"}), status_forcelist=(502, 503, 504),
                      backoff_factor=0.05, raise_on_status=False)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=retry)
        session = requests.Session()
        # Peers are addressed directly: no proxy variables, no ~/.netrc lookups, which
        # requests would otherwise redo on every call (a large share of a hop's CPU).
        session.trust_env = False
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def get_json(self, path: str, params=None, read_timeout: float | None = None) -> dict:
        """GET and decode; `read_timeout` overrides the client's (a long-poll needs more)."""
        headers = {"Accept": "application/json"}
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if self._authorization is not None:
            headers["Authorization"] = self._authorization()
        url = f"{self._base_url}{path}"
        timeout = self._timeout if read_timeout is None else (self._timeout[0], read_timeout)
        try:
            response = self._session.get(url, params=params, headers=headers, timeout=timeout)
        except requests.RequestException as ex:
            log.warning("%s unreachable: %s", self._peer, ex, extra={"peer": self._peer})
            raise self._unavailable() from ex
        if response.status_code != 200:
            # 5xx: the peer is failing; 4xx: we broke the contract. Either way the
            # client can do nothing about it but retry later.
            log.error("%s answered %s for %s", self._peer, response.status_code, path,
                      extra={"peer": self._peer, "status": response.status_code})
            raise PeerRefused(self._unavailable().message, response.status_code)
        try:
            return response.json()
        except ValueError as ex:
            log.error("%s answered invalid JSON for %s", self._peer, path)
            raise self._unavailable() from ex

    def _unavailable(self) -> DependencyUnavailable:
        return DependencyUnavailable(f"{self._peer} service is unavailable, try again later")

    def close(self) -> None:
        self._session.close()
