"""The values that travel between an owner and its consumers."""
import re
from dataclasses import dataclass, field
from datetime import datetime

_POSITION = re.compile(r"^\d{1,19}$")


@dataclass(frozen=True, order=True)
class Position:
    """Where an event stands in its owner's feed: its commit sequence number.

    The owner numbers its events as their transactions commit, one committing
    transaction at a time (see outbox.py), so the numbers that are visible always
    form a prefix: a reader that has seen `seq` can never be handed a smaller one
    later, and a position only grows.
    """

    seq: int

    @classmethod
    def parse(cls, text: str) -> "Position":
        if _POSITION.match(text or "") is None:
            raise ValueError(f"not a feed position: {text!r}")
        return cls(int(text))

    def __str__(self) -> str:
        return str(self.seq)


START = Position(0)


@dataclass(frozen=True)
class Event:
    """One fact an owner published: a past-tense type and the data consumers need."""

    position: Position
    type: str
    data: dict
    # When the owner committed it (its clock): the projector's lag is measured from it.
    time: datetime | None = None
    # The W3C traceparent of the span that recorded it, when tracing was on (outbox.py):
    # the projector's batch span links to it. Never part of `data`.
    trace: str | None = None

    def to_json(self) -> dict:
        document = {"position": str(self.position), "type": self.type, "data": self.data,
                    "time": self.time.isoformat() if self.time else None}
        if self.trace:
            document["trace"] = self.trace
        return document

    @classmethod
    def from_json(cls, document: dict) -> "Event":
        time = document.get("time")
        trace = document.get("trace")
        return cls(Position.parse(document["position"]), str(document["type"]),
                   dict(document["data"]), datetime.fromisoformat(time) if time else None,
                   str(trace) if trace else None)


@dataclass(frozen=True)
class Batch:
    """Events after a position; `position` is the last one's (or the asked one)."""

    events: list[Event]
    position: Position


@dataclass(frozen=True)
class SnapshotPage:
    """A page of the owner's current state.

    `position` is the owner's feed head taken before the page was read, so the page
    is at least as new as that position; `next` is the cursor of the next page
    (None on the last one).
    """

    rows: list[dict]
    position: Position
    next: str | None = None
    extra: dict = field(default_factory=dict)
