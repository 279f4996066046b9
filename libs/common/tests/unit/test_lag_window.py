"""The projector's lag window: percentiles over all kept lags or over a recent span."""
from datetime import datetime, timedelta, timezone

from conduit_common.events.model import Event, Position
from conduit_common.events.projector import LagWindow

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def event(written: datetime) -> Event:
    return Event(Position(1), "Noted", {}, written)


def test_lags_are_measured_from_the_owners_write_in_milliseconds():
    window = LagWindow("test")
    window.record([event(T0), event(T0 + timedelta(milliseconds=30))],
                  T0 + timedelta(milliseconds=40))

    summary = window.summary()

    assert summary["samples"] == 2
    assert summary["max"] == 40.0
    assert summary["p50"] == 40.0          # the upper of two samples


def test_since_keeps_only_lags_recorded_from_then_on():
    window = LagWindow("test")
    window.record([event(T0)], T0 + timedelta(seconds=2))                       # 2000 ms
    later = T0 + timedelta(seconds=10)
    window.record([event(later - timedelta(milliseconds=5))], later)             # 5 ms

    assert window.summary()["max"] == 2000.0
    assert window.summary(since=later.timestamp()) == {
        "p50": 5.0, "p99": 5.0, "max": 5.0, "samples": 1}
    assert window.summary(since=later.timestamp() + 1)["samples"] == 0


def test_events_without_a_write_time_are_not_counted():
    window = LagWindow("test")
    window.record([Event(Position(1), "Noted", {}, None)], T0)

    assert window.summary() == {"p50": None, "p99": None, "max": None, "samples": 0}
