"""The hostile-input campaign in CI: 2,000 seeded mutants of the public test files.

Each goes through import, render and a push to the storage SCP (one in 50 also
through a snapshot in the real viewer), in memory-limited child processes with
a watchdog: no process death, no hang, no uncaught exception, no traceback and
no planted patient name or ID in any log.  ``python -m bench.fuzz --count
10000`` runs the full campaign.
"""

from __future__ import annotations

import pytest

from bench.fuzz import run_campaign

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def test_two_thousand_mutants_are_all_handled():
    result = run_campaign(2000, seed=20261206, jobs=2, batch=250, memory_mb=2048, hang_s=10.0, snapshot_every=50)
    print(result.summary())
    assert result.mutants == 2000
    assert result.crashes == [], result.summary()
    assert result.hangs == [], result.summary()
    assert result.uncaught == [], result.summary()
    assert result.tracebacks == 0, result.summary()
    assert result.planted_in_logs == [] and result.planted_in_reasons == [], result.summary()
    assert result.peak_rss_mb < 2048
