"""Opening the index: WAL, a busy timeout for concurrent writers, migrations."""

from __future__ import annotations

import contextlib
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

from workstation.store.schema import MIGRATIONS, SCHEMA_VERSION


class IndexError_(RuntimeError):
    """The index cannot be opened or is from a newer Lightbox."""


# Writers (storage SCP associations, imports) wait this long for each other.
BUSY_TIMEOUT_S = 60.0


def connect(path: Path, *, migrate_to: int | None = None, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the index at ``path``.

    ``migrate_to`` stops at an earlier version (tests make old databases).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.create_function("lb_fold", 1, _fold, deterministic=True)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    if not readonly:
        _migrate(con, SCHEMA_VERSION if migrate_to is None else migrate_to)
    return con


_SqlValue = str | bytes | int | float | None


def _fold(value: _SqlValue) -> _SqlValue:
    return value.casefold() if isinstance(value, str) else value


def schema_version(con: sqlite3.Connection) -> int:
    return int(con.execute("PRAGMA user_version").fetchone()[0])


def _migrate(con: sqlite3.Connection, target: int) -> None:
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise IndexError_(
            f"the study index was written by a newer Lightbox (schema {current}, this one knows {SCHEMA_VERSION})"
        )
    if current >= target:
        return
    with transaction(con):
        current = schema_version(con)  # another process may have migrated meanwhile
        for version in range(current, target):
            for statement in _statements(MIGRATIONS[version]):
                con.execute(statement)
            con.execute(f"PRAGMA user_version={version + 1}")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock up front so check-then-write is atomic."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        try:
            con.execute("COMMIT")
        except BaseException:
            # A COMMIT that fails (disk full) leaves the transaction open: end it, or every
            # later BEGIN on this connection fails too.
            if con.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
            raise


def inserted_pk(cur: sqlite3.Cursor) -> int:
    """The primary key of the row the INSERT run on ``cur`` added.

    Raises
    ------
    sqlite3.DatabaseError
        The statement added no row (``lastrowid`` is None), so no key can be handed on.
    """
    pk = cur.lastrowid
    if pk is None:
        raise sqlite3.DatabaseError("the INSERT added no row")
    return pk
