"""The Patient ID each archive gave a study in its query answers, remembered for this process.

A Patient Root archive wants the study's Patient ID with every request below
PATIENT level (:mod:`workstation.net.retrieve_plan`), and a strictly
hierarchical one will not say which it is when asked by Study Instance UID
alone.  The query that showed the study to the reader (the Remote tab's
search, a prefetch's priors) carried it: :func:`remember` is told every
C-FIND answer, and a retrieve started later in the same process takes the
Patient ID from :func:`recall`.

Held in memory only, never written or logged (Patient IDs are PHI), at most
:data:`LIMIT` studies (the oldest go first).  A study answered under two
different Patient IDs by one archive is not recalled at all: the retrieve
then asks the archive.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from pydicom.dataset import Dataset

from workstation.net.association import Peer

#: Most studies remembered.
LIMIT = 4096

_CONFLICT = ""  # one archive, one study, two Patient IDs: nothing to recall
_lock = threading.Lock()
_known: OrderedDict[tuple[str, str], str] = OrderedDict()


def remember(peer: Peer, answer: Dataset) -> None:
    """Note the Patient ID ``answer`` (a C-FIND response from ``peer``) gives its study, if it gives both."""
    study = str(answer.get("StudyInstanceUID", "") or "").strip()
    patient_id = str(answer.get("PatientID", "") or "").strip()
    if not study or not patient_id:
        return
    key = (peer.describe(), study)
    with _lock:
        before = _known.get(key)
        _known[key] = patient_id if before is None or before == patient_id else _CONFLICT
        _known.move_to_end(key)
        while len(_known) > LIMIT:
            _known.popitem(last=False)


def recall(peer: Peer, study_uid: str) -> str:
    """The Patient ID ``peer`` answered for ``study_uid`` in this process, or "" when it did not (or gave two)."""
    with _lock:
        return _known.get((peer.describe(), study_uid), "")


def forget() -> None:
    """Forget every study (a reader logs out, a test starts)."""
    with _lock:
        _known.clear()
