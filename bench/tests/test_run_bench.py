"""The bench's closing line names every target it missed, not only the small set's."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import run_bench  # noqa: E402


def run_with(scale_rows, lag_p99s) -> dict:
    return {"scale": {"rows": scale_rows},
            "lag": {"after": {"articles": [{"name": name, "lag_ms": {"p99": p99}}
                                           for name, p99 in lag_p99s.items()]}}}


def test_the_large_set_and_the_lag_are_named_when_they_miss():
    run = run_with([{"name": "feed", "ratio": 1.93, "met": False},
                    {"name": "tags", "ratio": 1.18, "met": True}],
                   {"auth-users": 29.4, "profiles-follows": 130.0})

    assert run_bench.missed_elsewhere(run) == [
        "large set feed (p99 1.93x)", "lag articles/profiles-follows (p99 130 ms)"]


def test_nothing_is_named_when_everything_is_met_or_was_not_run():
    met = run_with([{"name": "feed", "ratio": 1.2, "met": True}], {"auth-users": 99.0})

    assert run_bench.missed_elsewhere(met) == []
    assert run_bench.missed_elsewhere({}) == []
