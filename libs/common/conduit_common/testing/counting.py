"""Count what a piece of code sends to the database, to prove it is not N+1."""
from contextlib import contextmanager

import sqlalchemy
from sqlalchemy import event


class StatementLog:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"StatementLog({self.count}: {self.statements!r})"


@contextmanager
def counting_statements(engine: sqlalchemy.Engine):
    """Record every SQL statement the engine executes inside the block."""
    log = StatementLog()

    def record(conn, cursor, statement, parameters, context, executemany):
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
