"""How a consumer reaches an owner's events: one small interface, one HTTP transport.

A projector only knows `EventSource`. Today events travel over the owner's internal
API (a long-polled feed plus snapshot pages); a broker (Kafka with Debezium's outbox
event router, docs/architecture.md) would be another implementation of the same
three calls, with the position becoming a partition offset.
"""
from typing import Protocol

from conduit_common.events.model import Batch, Event, Position, SnapshotPage
from conduit_common.http import InternalClient, PeerRefused

GONE = 410


class SnapshotRequired(Exception):
    """The owner no longer has the events after our position: rebuild from a snapshot."""


class EventSource(Protocol):
    name: str

    def read(self, after: Position, limit: int, wait: float) -> Batch:
        """Events after `after` in feed order; waits up to `wait` seconds for the first."""

    def snapshot(self, cursor: str | None, limit: int) -> SnapshotPage:
        """One page of the owner's current state, from `cursor` (None: the first)."""


class HttpEventSource:
    """An owner's /internal/events feed and one of its snapshot endpoints."""

    def __init__(self, client: InternalClient, name: str, consumer: str, snapshot_path: str,
                 feed_path: str = "/internal/events"):
        self.name = name
        self._client = client
        self._consumer = consumer
        self._feed_path = feed_path
        self._snapshot_path = snapshot_path

    def read(self, after: Position, limit: int, wait: float) -> Batch:
        params = {"consumer": self._consumer, "after": str(after), "limit": limit, "wait": wait}
        try:
            body = self._client.get_json(self._feed_path, params, read_timeout=wait + 5)
        except PeerRefused as ex:
            if ex.status == GONE:
                raise SnapshotRequired(f"{self.name}: position {after} was pruned") from ex
            raise
        return Batch([Event.from_json(event) for event in body["events"]],
                     Position.parse(body["position"]))

    def snapshot(self, cursor: str | None, limit: int) -> SnapshotPage:
        params = {"limit": limit}
        if cursor is not None:
            params["after"] = cursor
        body = self._client.get_json(self._snapshot_path, params)
        return SnapshotPage(rows=list(body["rows"]), position=Position.parse(body["position"]),
                            next=body.get("next"))
