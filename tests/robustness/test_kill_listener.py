"""SIGKILL of ``lightbox listen`` mid-push loses no instance it answered Success for.

Pushed plainly and with a Move Originator AE Title equal to the listener's own
(which any sender can claim); ``python -m bench.kill_listener --rounds 20``
runs the full 20 rounds per mode.
"""

from __future__ import annotations

import pytest

from bench.kill_listener import one_round

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]


@pytest.mark.parametrize("spoof_originator", [False, True], ids=["plain-push", "move-originator-ours"])
def test_acknowledged_instances_survive_sigkill(tmp_path, spoof_originator):
    acknowledged = 0
    for seed in range(3):
        result = one_round(tmp_path, spoof_originator, seed, count=30)
        assert result.rc == -9  # really killed, not stopped cleanly
        assert result.lost == [], f"round {seed}: acknowledged but lost"
        acknowledged += result.acknowledged
    assert acknowledged > 0
