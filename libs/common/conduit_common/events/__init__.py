"""Events between bounded contexts: a transactional outbox, its feed, and projectors.

The owner of some data writes an event in the same transaction as the change
(`outbox.Outbox.record`); its internal API serves the events in commit-visibility
order (`feed.EventFeedResource`) and a snapshot of the current state; a consumer's
projector (`projector.Projector`) pulls them through an `EventSource` and applies
them to read-only copies in its own schema, storing its position in the same
transaction as the rows. docs/architecture.md ("Read models") tells the whole story.
"""
from conduit_common.events.model import START, Batch, Event, Position, SnapshotPage

__all__ = ["START", "Batch", "Event", "Position", "SnapshotPage"]
