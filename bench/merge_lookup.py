"""How long the merge lookup takes per new study with N recorded merges, without and with the index of
``patient_changes.old_value`` (schema version 7).

Run: .venv/bin/python -m bench.merge_lookup [N]
Builds an index at the previous schema version with N merges, times ``survivor_of`` for a merged-away ID and
for an ID never merged (what every new study asks), then opens the index so it migrates and times them again.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.database import connect
from workstation.store.merges import survivor_of
from workstation.store.schema import SCHEMA_VERSION

ROUNDS = 2000


def _fill(home: Home, n: int) -> None:
    con = connect(home.index_file, migrate_to=SCHEMA_VERSION - 1)
    con.execute("BEGIN")
    for i in range(n):
        con.execute("INSERT INTO patients (patient_id, name) VALUES (?, ?)", (f"S{i}", f"Survivor^{i}"))
    con.executemany("INSERT INTO patient_changes (action, patient_id, study_uid, field, old_value, new_value, source,"
                    " created) VALUES ('merge', ?, ?, 'patient_id', ?, ?, 'hl7', '2024')",
                    [(f"S{i}", f"1.2.{i}", f"P{i}", f"S{i}") for i in range(n)])
    con.execute("COMMIT")
    con.close()


def _per_lookup_us(con: sqlite3.Connection, patient_id: str) -> float:
    started = time.perf_counter()
    for _ in range(ROUNDS):
        survivor_of(con, patient_id)
    return (time.perf_counter() - started) / ROUNDS * 1e6


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.single(Path(tmp)).ensure()
        _fill(home, n)
        con = connect(home.index_file, readonly=True)
        before = (_per_lookup_us(con, f"P{n // 2}"), _per_lookup_us(con, "NEVER-MERGED"))
        con.close()
        with StudyCache.open(home) as cache:  # migrates to the current version
            after = (_per_lookup_us(cache.connection, f"P{n // 2}"),
                     _per_lookup_us(cache.connection, "NEVER-MERGED"))
    print(f"{n} recorded merges, {ROUNDS} lookups each")
    print(f"  schema {SCHEMA_VERSION - 1} (no index): merged ID {before[0]:8.1f} us, unmerged ID {before[1]:8.1f} us")
    print(f"  schema {SCHEMA_VERSION} (indexed):    merged ID {after[0]:8.1f} us, unmerged ID {after[1]:8.1f} us")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
