"""The follows rows' copies of their followees' count rows stay exact when a follow
lands (through the projector) while the followee's article write is still open.

Without the projector's lock on the count row, the follow would copy the values from
before the write, and the write's own copying, done before the follow existed, would
miss it: the feed would show a wrong total, or none of the author's new articles.
"""
import threading
import time

import pytest
import sqlalchemy

from conduit_common.events.model import Batch, Event, Position, SnapshotPage
from conduit_common.events.projector import PositionStore, Projector

from conduit_articles.models import POSITIONS
from conduit_articles.projections import FOLLOW_ADDED, FOLLOWS_PROJECTION
from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import ArticleRepository

AUTHOR, FOLLOWER, EARLIER_FOLLOWER = 1, 100, 101
OPEN_SECONDS = 0.5                   # how long the article write stays open


class ScriptedSource:
    """The owner's feed as a fixed list of follow events, no snapshot rows."""

    def __init__(self, pairs: list[tuple[int, int]]):
        self._events = [Event(Position(i + 1), FOLLOW_ADDED, {"follower_id": a, "followee_id": b})
                        for i, (a, b) in enumerate(pairs)]

    def read(self, after: Position, limit: int, wait: float) -> Batch:
        events = [e for e in self._events if e.position.seq > after.seq][:limit]
        return Batch(events, events[-1].position if events else after)

    def snapshot(self, cursor, limit) -> SnapshotPage:
        return SnapshotPage(rows=[], position=Position(0), next=None)


def projector_for(engine, pairs) -> Projector:
    projector = Projector("articles", FOLLOWS_PROJECTION, ScriptedSource(pairs), engine,
                          PositionStore(POSITIONS), wait_seconds=0)
    projector.step()                     # the (empty) snapshot
    return projector


def feed_total(sessions, follower: int) -> int:
    with sessions.session() as session:
        return ArticleRepository(session).page(ArticleFilter(feed_of=follower), follower,
                                               20, 0)[1]


def land_during_open_write(sessions, write, land) -> None:
    """Run `write` (given the repository) in a transaction, then `land` in another
    thread while that transaction stays open; `land` must wait for the commit."""
    landed = threading.Event()

    def land_and_say_so():
        land()
        landed.set()

    with sessions.session() as session:
        repository = ArticleRepository(session)
        write(session, repository)
        follower = threading.Thread(target=land_and_say_so)
        follower.start()
        time.sleep(OPEN_SECONDS)
        # the follow waits for the write's lock on the author's count row
        assert not landed.is_set()
        repository.commit()
    follower.join(timeout=30)
    assert landed.is_set()


def insert_an_article(session, repository) -> None:
    repository.insert(slug="written-meanwhile", author_id=AUTHOR, title="t",
                      description="d", body="b")


def delete_the_newest(session, repository) -> None:
    """As the API deletes: the article locked by find_ref, then delete."""
    slug = session.execute(sqlalchemy.text(
        "SELECT slug FROM articles.articles WHERE author_id = :author"
        " ORDER BY created_at DESC, id DESC LIMIT 1"), {"author": AUTHOR}).scalar_one()
    repository.delete(repository.find_ref(slug, for_update=True))


@pytest.mark.parametrize("earlier_articles", [0, 2], ids=["first article", "more articles"])
@pytest.mark.parametrize("write", ["insert", "delete"])
def test_a_follow_landing_during_an_open_article_write_copies_what_it_commits(
        engine, sessions, counts, seed_article, directory, earlier_articles, write):
    if write == "delete":
        earlier_articles += 1            # something to delete
    for _ in range(earlier_articles):
        seed_article(author_id=AUTHOR)
    projector = projector_for(engine, [(FOLLOWER, AUTHOR)])
    directory.follow(EARLIER_FOLLOWER, AUTHOR)     # after the projector's (empty) snapshot

    land_during_open_write(
        sessions, insert_an_article if write == "insert" else delete_the_newest,
        projector.step)

    assert counts.stale_follow_copies() == []
    expected = earlier_articles + (1 if write == "insert" else -1)
    assert feed_total(sessions, FOLLOWER) == feed_total(sessions, EARLIER_FOLLOWER) == expected


def test_a_plain_insert_of_a_follow_also_waits_for_the_open_write(
        engine, sessions, counts, seed_article):
    """The previous release's projector inserts follows rows knowing nothing of the
    copies (while a deploy rolls out): the trigger fills them, after the count row's
    lock. (It cannot lock a count row that does not exist yet: that case needs the
    projector's own statement, above.)"""
    seed_article(author_id=AUTHOR)

    def insert_the_follow():
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(
                "INSERT INTO articles.follows (follower_id, followee_id) VALUES (:a, :b)"),
                {"a": FOLLOWER, "b": AUTHOR})

    land_during_open_write(sessions, insert_an_article, insert_the_follow)

    assert counts.stale_follow_copies() == []
    assert feed_total(sessions, FOLLOWER) == 2
