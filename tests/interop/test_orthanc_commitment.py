"""Storage commitment against Orthanc: the report comes on a new association to our SCP."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pydicom.uid import CTImageStorage, generate_uid

from tests.interop.conftest import CALLING_AE
from workstation.net.commitment import COMMITTED, FAILED, UNKNOWN, CommitmentInbox, request_commitment
from workstation.net.listener import ensure_listener

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def _refs(files):
    out = []
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        out.append((str(ds.SOPClassUID), str(ds.SOPInstanceUID)))
    return out


def test_commitment_report_on_new_association(loaded_orthanc, interop_files, home, settings, cache):
    unknown = (CTImageStorage, generate_uid())
    refs = _refs(interop_files) + [unknown]
    with ensure_listener(home, settings, cache) as info:
        assert info.started_here
        report = request_commitment(loaded_orthanc.peer, CALLING_AE, refs, inbox=CommitmentInbox(home), timeout=30)
    assert report.via == "new association", report.summary()
    assert [o.sop_instance_uid for o in report.outcomes] == [uid for _c, uid in refs]
    assert report.count(COMMITTED) == 10
    last = report.outcomes[-1]
    assert last.state == FAILED and last.failure_reason == 0x0112
    assert "does not have it" in last.reason
    assert not report.ok and report.method == "storage commitment"


def test_no_listener_means_unknown_not_committed(loaded_orthanc, interop_files, home):
    # Nobody receives the archive's report: after the bounded wait every instance is unknown.
    report = request_commitment(loaded_orthanc.peer, CALLING_AE, _refs(interop_files)[:2],
                                inbox=CommitmentInbox(home), timeout=1.5)
    assert [o.state for o in report.outcomes] == [UNKNOWN, UNKNOWN]
    assert "no storage commitment report" in report.error
