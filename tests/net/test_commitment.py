"""Storage commitment requests against in-process SCPs: report on the same association, refusals, the inbox."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel, Verification

from tests.net.helpers import CALLING_AE
from workstation.net.association import Peer
from workstation.net.commitment import (
    COMMITTED,
    FAILED,
    UNKNOWN,
    CommitmentInbox,
    CommitmentNotSupported,
    outcomes_from_report,
    parse_event_report,
    request_commitment,
)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


def _report_dataset(transaction_uid, refs, failed=()):
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    ok = []
    for cls, uid in refs:
        if uid not in failed:
            item = Dataset()
            item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = cls, uid
            ok.append(item)
    ds.ReferencedSOPSequence = ok
    bad = []
    for cls, uid in refs:
        if uid in failed:
            item = Dataset()
            item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = cls, uid
            item.FailureReason = failed[uid]
            bad.append(item)
    if bad:
        ds.FailedSOPSequence = bad
    return ds


@contextmanager
def commitment_scp(action_status=0x0000, failed=None, report=True):
    """An SCP answering N-ACTION, then sending N-EVENT-REPORT on the same association from a thread."""

    def on_action(event):
        req = event.action_information
        refs = [(str(i.ReferencedSOPClassUID), str(i.ReferencedSOPInstanceUID)) for i in req.ReferencedSOPSequence]
        if report:
            def later():
                time.sleep(0.2)
                info = _report_dataset(str(req.TransactionUID), refs, failed or {})
                event.assoc.send_n_event_report(info, 2 if failed else 1, StorageCommitmentPushModel,
                                                "1.2.840.10008.1.20.1.1")
            threading.Thread(target=later, daemon=True).start()
        return action_status, None

    ae = AE("COMMITSCP")
    ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    ae.add_supported_context(Verification)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_N_ACTION, on_action)])
    try:
        yield Peer("127.0.0.1", server.server_address[1], "COMMITSCP", timeout=10)
    finally:
        server.shutdown()


REFS = [(CTImageStorage, generate_uid()) for _ in range(3)]


def test_report_on_the_same_association(tmp_path):
    with commitment_scp(failed={REFS[1][1]: 0x0110}) as peer:
        report = request_commitment(peer, CALLING_AE, REFS, inbox=CommitmentInbox(tmp_path), timeout=10)
    assert report.via == "same association"
    assert [o.state for o in report.outcomes] == [COMMITTED, FAILED, COMMITTED]
    assert report.outcomes[1].failure_reason == 0x0110 and "processing failure" in report.outcomes[1].reason


def test_same_association_without_inbox(tmp_path):
    with commitment_scp() as peer:
        report = request_commitment(peer, CALLING_AE, REFS, inbox=None, timeout=10)
    assert report.ok and report.count(COMMITTED) == 3


def test_refused_request_is_unknown(tmp_path):
    with commitment_scp(action_status=0x0110, report=False) as peer:
        report = request_commitment(peer, CALLING_AE, REFS, inbox=CommitmentInbox(tmp_path), timeout=5)
    assert [o.state for o in report.outcomes] == [UNKNOWN] * 3
    assert "refused" in report.error and "0x0110" in report.error


def test_no_report_in_time_is_unknown(tmp_path):
    with commitment_scp(report=False) as peer:
        report = request_commitment(peer, CALLING_AE, REFS, inbox=CommitmentInbox(tmp_path), timeout=0.5)
    assert all(o.state == UNKNOWN for o in report.outcomes)
    assert "within 0.5 s" in report.error


def test_archive_without_commitment_support():
    ae = AE("NOCOMMIT")
    ae.add_supported_context(Verification)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        peer = Peer("127.0.0.1", server.server_address[1], "NOCOMMIT", timeout=5)
        with pytest.raises(CommitmentNotSupported, match="does not support Storage Commitment"):
            request_commitment(peer, CALLING_AE, REFS, inbox=None, timeout=1)
    finally:
        server.shutdown()


def test_inbox_round_trip_and_parse(tmp_path):
    inbox = CommitmentInbox(tmp_path)
    tx = generate_uid()
    parsed = parse_event_report(2, _report_dataset(tx, REFS, {REFS[2][1]: 0x0112}))
    inbox.put(parsed)
    assert inbox.take(generate_uid()) is None
    got = inbox.take(tx)
    assert got["event_type"] == 2 and len(got["committed"]) == 2 and got["failed"][0][2] == 0x0112
    assert inbox.take(tx) is None  # taken once
    states = [o.state for o in outcomes_from_report(REFS, got, "")]
    assert states == [COMMITTED, COMMITTED, FAILED]
    with pytest.raises(ValueError):
        parse_event_report(1, Dataset())
