"""How long the worklist takes to build from N cached studies and N orders (no network).

Run: .venv/bin/python -m bench.worklist_build [N]
Prints the time of building it from the index (what the tab does on every filter change) and of the pure
build alone.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from workstation.config import Settings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.worklist.build import WorklistFilter, build_worklist
from workstation.worklist.gather import rebuild
from workstation.worklist.orders import Order, list_orders, save_orders
from workstation.store.queries import StudyFilter


def main(n: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.single(Path(tmp)).ensure()
        cache = StudyCache.open(home)
        with cache.lock, transaction(cache.connection) as con:
            for i in range(n):
                pk = con.execute("INSERT INTO patients (patient_id, name) VALUES (?, ?)",
                                 (f"P{i}", f"Name^{i}")).lastrowid
                con.execute("INSERT INTO studies (patient_pk, study_uid, study_date, study_time, accession, modalities,"
                            " created) VALUES (?,?,?,?,?,?,?)",
                            (pk, f"1.2.{i}", "20240101", f"{i % 24:02d}0000", f"A{i}", "CT", "2024-01-01"))
        save_orders(cache, [Order(f"A{i}", priority="STAT" if i % 50 == 0 else "ROUTINE", reason="r")
                            for i in range(n)])
        settings = Settings()
        started = time.perf_counter()
        items = rebuild(cache, settings, [], WorklistFilter())
        from_index = time.perf_counter() - started
        local, orders = cache.studies(StudyFilter()), list_orders(cache)
        started = time.perf_counter()
        build_worklist(local, [], orders)
        pure = time.perf_counter() - started
        cache.close()
    print(f"worklist of {len(items)} items from {n} studies and {n} orders: {from_index * 1000:.0f} ms from the index,"
          f" {pure * 1000:.0f} ms the build alone")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
