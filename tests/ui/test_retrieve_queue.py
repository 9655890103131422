"""The retrieve queue: jobs in parallel up to the node's limit, progress throttled, cancel and retry."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from workstation.config import Node
from workstation.net.retrieve import RetrieveProgress
from workstation.ui.retrieve_panel import RetrievePanel, job_cells
from workstation.ui.retrieve_queue import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    RetrieveJob,
    RetrieveQueue,
    next_starts,
)

WAIT_MS = 20_000
UID = "1.2.826.0.1.3680043.10.1234."


def _node(limit: int, name: str = "pacs") -> Node:
    return Node(name=name, ae_title="PACS", host="127.0.0.1", port=11999, max_associations=limit)


def _report(ok: bool = True, cancelled: bool = False, text: str = "done"):
    return SimpleNamespace(ok=ok, cancelled=cancelled, summary=lambda: text)


def test_free_associations_are_shared_among_queued_jobs():
    alone = RetrieveJob(_node(4), UID + "1")
    assert [(j.study_uid, n) for j, n in next_starts([alone])] == [(UID + "1", 4)]
    three = [RetrieveJob(_node(2), UID + str(i)) for i in range(3)]
    assert [n for _j, n in next_starts(three)] == [1, 1]
    four = [RetrieveJob(_node(4), UID + str(i)) for i in range(3)]
    assert [n for _j, n in next_starts(four)] == [1, 1, 2]
    busy = RetrieveJob(_node(2), UID + "9", state=RUNNING, associations=2)
    assert next_starts([busy, RetrieveJob(_node(2), UID + "8")]) == []
    # Another archive has limits of its own.
    other = RetrieveJob(_node(1, "other"), UID + "7")
    assert [(j.node.name, n) for j, n in next_starts([busy, other])] == [("other", 1)]


def test_jobs_run_in_parallel_up_to_the_node_limit(qtbot):
    release = threading.Event()
    lock = threading.Lock()
    running = {"now": 0, "most": 0}
    given = []

    def retrieve_study(node, study_uid, progress, cancel):
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            given.append(node.max_associations)
        release.wait(WAIT_MS / 1000)
        with lock:
            running["now"] -= 1
        return _report(text=f"{study_uid} retrieved")

    queue = RetrieveQueue(retrieve_study)
    retrieved = []
    queue.retrieved.connect(retrieved.append)
    jobs = queue.add_many(_node(2), [(UID + str(i), f"Study {i}") for i in range(3)])
    assert [j.state for j in jobs] == [RUNNING, RUNNING, QUEUED]
    qtbot.waitUntil(lambda: running["now"] == 2, timeout=WAIT_MS)
    release.set()
    with qtbot.waitSignal(queue.idle, timeout=WAIT_MS):
        pass
    assert [j.state for j in jobs] == [DONE, DONE, DONE]
    assert running["most"] == 2 and given == [1, 1, 1]
    assert sorted(retrieved) == [UID + str(i) for i in range(3)]
    assert queue.wait(WAIT_MS)


def test_progress_is_throttled_and_the_last_counts_shown(qtbot):
    def retrieve_study(node, study_uid, progress, cancel):
        for k in range(1, 2001):
            progress(RetrieveProgress(k, 2000 - k, 0, 0, 2000, k * 500_000, 0.5))
        return _report(text="2000 retrieved")

    queue = RetrieveQueue(retrieve_study)
    panel = RetrievePanel(queue)
    qtbot.addWidget(panel)
    changes = []
    queue.job_changed.connect(changes.append)
    with qtbot.waitSignal(queue.idle, timeout=WAIT_MS):
        job = queue.add(_node(2), UID + "1", "Phantom, Paula")
    # 2,000 reports in a burst: a handful of signals (start, a throttled few, the final counts, the end).
    assert len(changes) <= 6, len(changes)
    assert job.state == DONE and job.progress.completed == 2000
    texts = panel.row_texts(job.job_id)
    assert texts[:3] == ["Phantom, Paula", "pacs", "Done"]
    assert texts[4:8] == ["2000", "0", "0", "2000.0"] and texts[8] == "2000 retrieved"
    bar = panel.table.cellWidget(0, 3)
    assert bar.value() == bar.maximum()


def test_cancel_and_retry(qtbot):
    attempts = []
    started = threading.Event()

    def retrieve_study(node, study_uid, progress, cancel):
        attempts.append(study_uid)
        if len(attempts) == 1:
            started.set()
            cancel.wait(WAIT_MS / 1000)  # a long retrieve, until cancelled
            return _report(ok=False, cancelled=True, text="3 retrieved (cancelled)")
        return _report(text="7 retrieved, 3 already cached")

    queue = RetrieveQueue(retrieve_study)
    panel = RetrievePanel(queue)
    qtbot.addWidget(panel)
    job, waiting = queue.add_many(_node(1), [(UID + "1", "A"), (UID + "2", "B")])
    assert started.wait(WAIT_MS / 1000) and waiting.state == QUEUED
    panel.table.selectRow(1)
    panel.cancel_selected()  # the waiting one never starts
    assert waiting.state == CANCELLED and panel.row_texts(waiting.job_id)[2] == "Cancelled"
    panel.table.selectRow(0)
    with qtbot.waitSignal(queue.idle, timeout=WAIT_MS):
        panel.cancel_selected()
    assert job.state == CANCELLED and job.summary == "3 retrieved (cancelled)"
    with qtbot.waitSignal(queue.idle, timeout=WAIT_MS):
        panel.retry_selected()
    assert job.state == DONE and panel.row_texts(job.job_id)[8] == "7 retrieved, 3 already cached"
    assert not queue.retry(job.job_id)  # a finished job is not retried
    panel.clear_finished()
    assert panel.table.rowCount() == 0 and panel.summary.text() == "No retrieves"


def test_a_failing_retrieve_is_shown_and_can_be_retried(qtbot):
    calls = []

    def retrieve_study(node, study_uid, progress, cancel):
        calls.append(node.max_associations)
        if len(calls) == 1:
            raise ConnectionRefusedError("no DICOM service at 127.0.0.1:11999")
        return _report(ok=False, text="0 retrieved, 2 failed")

    queue = RetrieveQueue(retrieve_study, in_cache=lambda uid: False)
    retrieved = []
    queue.retrieved.connect(retrieved.append)
    with qtbot.waitSignal(queue.idle, timeout=WAIT_MS):
        job = queue.add(_node(3), UID + "1")
    assert job.state == FAILED and job.summary == "no DICOM service at 127.0.0.1:11999"
    assert job_cells(job)[2] == "Failed"
    with qtbot.waitSignal(queue.idle, timeout=WAIT_MS):
        queue.retry(job.job_id)
    assert job.state == FAILED and job.summary == "0 retrieved, 2 failed"
    assert calls == [3, 3] and retrieved == []
