"""Engine factory and the one object that owns a session's lifecycle."""
import time
import weakref
from collections.abc import Callable
from contextlib import contextmanager

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from conduit_common.tracing import trace_engine

# Constraint and index names of every service's MetaData. The migrations spell these
# names out, so changing a pattern here means a migration in each service.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The services' own time budget, inside the gateway's upstream timeout (2 s,
# gateway/routes.yml; the whole chain: docs/operations.md#time-budgets): a request
# waits at most POOL_TIMEOUT_SECONDS for a pooled connection, and each statement runs
# at most DB_STATEMENT_TIMEOUT_MS (CommonSettings) before Postgres cancels it; either
# ends as a 503 in the error shape (errors.py), and the worker is free again.
POOL_TIMEOUT_SECONDS = 0.5
DEFAULT_STATEMENT_TIMEOUT_MS = 1000


PRE_PING_MODES = ("idle", "always", "off")
# A connection back in the pool for longer than this is tested before it is used again.
PING_AFTER_IDLE_SECONDS = 1.0


# The driver of every engine: psycopg 3 (libs/common/pyproject.toml says why). A URL
# naming psycopg2 (this project's driver until 2026-11) or no driver (SQLAlchemy's
# default for postgresql:// is psycopg2, which is not installed) is pointed at psycopg,
# so that a DATABASE_URL written for an earlier release keeps working.
DRIVER_SCHEME = "postgresql+psycopg"
_OTHER_SCHEMES = ("postgresql+psycopg2", "postgresql", "postgres")


def with_our_driver(url):
    """`url` (a str; a sqlalchemy URL object is passed through) on psycopg."""
    if not isinstance(url, str):
        return url
    scheme, separator, rest = url.partition("://")
    return f"{DRIVER_SCHEME}://{rest}" if separator and scheme in _OTHER_SCHEMES else url


def libpq_url(url: str, database: str | None = None) -> str:
    """`url` without its SQLAlchemy driver (and on `database` if given), as libpq and
    its tools take it: psycopg.connect, pg_dump, psql."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str, pool_size: int = 5, application_name: str = "conduit",
                     statement_timeout_ms: int = 0, pre_ping: str = "idle",
                     autocommit: bool = False) -> sqlalchemy.Engine:
    """A pooled engine; create it inside each worker process, never at import time.

    `statement_timeout_ms` > 0 sets Postgres' statement_timeout for every connection
    (the `options` startup parameter: direct connections only, PgBouncer in transaction
    mode does not pass it on). 0 leaves the server's default (none): the projectors'
    batches and snapshots may take longer than a request may.

    `pre_ping` decides when a connection leaving the pool is tested with a round trip,
    so that one dropped by a database restart is replaced instead of failing a request:
    "always" (SQLAlchemy's pool_pre_ping: a round trip per request), "idle" (only after
    it sat unused for PING_AFTER_IDLE_SECONDS: under load no request pays for it, and a
    restart during a quiet spell is still caught) or "off". A restart under load fails
    the requests on the dropped connections (503), and SQLAlchemy then replaces the
    whole pool. make bench measures "always" against the default.

    `autocommit` makes pooled connections rest in autocommit, the mode of most API
    requests (reads, see SessionManager): then only units of work that write switch a
    connection's mode (psycopg's autocommit flag and isolation level are client-side:
    no round trip, the level rides on the BEGIN), which was some 5 % of a read
    request's CPU when every read paid it. Only for engines whose every transaction
    goes through SessionManager, which asks for READ COMMITTED itself: anything else
    on such an engine (a bare Session, engine.begin()) would not be a transaction.
    """
    if pre_ping not in PRE_PING_MODES:
        raise ValueError(f"pre_ping must be one of {PRE_PING_MODES}, not {pre_ping!r}")
    connect_args = {"connect_timeout": 5, "application_name": application_name}
    if statement_timeout_ms > 0:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    engine = sqlalchemy.create_engine(
        with_our_driver(url),
        pool_pre_ping=pre_ping == "always",
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT_SECONDS,  # waiting longer is worse than a 503
        pool_recycle=1800,
        # Errors and logs never show bound values (password hashes, emails, bodies).
        hide_parameters=True,
        connect_args=connect_args,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    if autocommit:
        _AT_REST_IN_AUTOCOMMIT.add(engine)
    if pre_ping == "idle":
        _ping_when_idle(engine)
    trace_engine(engine)   # a span per statement, when tracing is on in this process
    return engine


# Engines made with autocommit=True: a plain connect() hands out an autocommit
# connection, and SQLAlchemy puts one a write switched back into autocommit on return.
_AT_REST_IN_AUTOCOMMIT: "weakref.WeakSet[sqlalchemy.Engine]" = weakref.WeakSet()


def _ping_when_idle(engine: sqlalchemy.Engine) -> None:
    def checked_in(dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    def checked_out(dbapi_connection, record, proxy):
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            # The pool drops this connection and hands out a fresh one.
            raise sqlalchemy.exc.DisconnectionError("idle connection failed its ping")

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


class SessionManager:
    """Commit on success, roll back on error, always close.

    As Falcon middleware it gives each request `req.context.session`; as a context
    manager (`with manager.session() as s:`) it serves scripts and tests.

    GET and HEAD only read, so they run in autocommit: no BEGIN and no COMMIT round
    trip, two of the five a typical list page would otherwise make. And their
    `req.context.session` is a Core `Connection`, not an ORM `Session`: read
    repositories only execute statements (`execute`, `scalars`, `scalar`, which both
    offer), and the Session's bookkeeping around each statement cost 12-17 % of a small
    read's CPU (in-process, /tags, single article, list, comments).

    `after_commit(info)` runs after a successful commit with the session's `info`
    dict, outside the transaction: an owner uses it to wait until its consumers have
    applied the events the request published (read-your-writes).
    """

    def __init__(self, engine: sqlalchemy.Engine,
                 after_commit: Callable[[dict], None] | None = None):
        # Whatever the engine's default (autocommit for the API's: service_engine), units
        # of work that write are transactions, and reads are not.
        self._factory = sessionmaker(
            engine.execution_options(isolation_level="READ COMMITTED"), expire_on_commit=False)
        # A read on an engine at rest in autocommit takes the connection as it is. Asking
        # for AUTOCOMMIT again sets it on checkout and resets it on return: four psycopg
        # mode switches, 50-65 us of CPU per read (connect + SELECT 1 + close: 170-180
        # us against 115-120).
        self._read_factory = (engine.connect if engine in _AT_REST_IN_AUTOCOMMIT else
                              engine.execution_options(isolation_level="AUTOCOMMIT").connect)
        self._after_commit = after_commit

    @contextmanager
    def session(self):
        session: Session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        self._committed(session)

    def _committed(self, session: Session) -> None:
        if self._after_commit is not None and session.info:
            self._after_commit(session.info)

    def process_resource(self, req, resp, resource, params):
        if resource is not None and getattr(resource, "uses_database", True):
            read_only = req.method in READ_ONLY_METHODS
            req.context.session = (self._read_factory if read_only else self._factory)()

    def process_response(self, req, resp, resource, req_succeeded):
        session = getattr(req.context, "session", None)
        if session is None:
            return
        if isinstance(session, sqlalchemy.Connection):
            # A read: in autocommit each statement was committed as it ran.
            session.close()
            req.context.session = None
            return
        committed = False
        try:
            if req_succeeded and resp.status_code < 400:
                session.commit()
                committed = True
            else:
                session.rollback()
        finally:
            session.close()
            req.context.session = None
        if committed:
            self._committed(session)


def service_engine(settings, service: str) -> sqlalchemy.Engine:
    """The engine of a service's API workers, from its CommonSettings."""
    # autocommit: the API's units of work all go through SessionManager (app.py).
    return create_db_engine(settings.database_url, settings.db_pool_size,
                            application_name=service,
                            statement_timeout_ms=settings.db_statement_timeout_ms,
                            pre_ping=settings.db_pool_pre_ping, autocommit=True)
