"""Modality Worklist C-FIND SCU (PS3.4 Annex K): the orders a worklist provider holds.

:func:`mwl_identifier` (pure) builds the query: the matching keys given and the
return keys a reading worklist needs (requested procedure, reason, priority,
referring physician, accession and its issuer, Study Instance UID, the
scheduled step's modality, date and body part).  :func:`query_worklist` sends
it and yields each answer's identifier.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from workstation.config import Node
from workstation.dicom.charset import UTF8
from workstation.net.answer_charset import read_answer_text
from workstation.net.association import (
    Cancel,
    NoAcceptedContext,
    Peer,
    ServiceFailed,
    associate,
    cancel_check,
    no_response_error,
    peer_of,
    status_category,
)
from workstation.net.sop_class_names import ModalityWorklistInformationFind

if TYPE_CHECKING:  # diagnostics is imported where used, as test_worklist_node does
    from workstation.net.diagnostics import Check

log = logging.getLogger(__name__)

MWL_FIND = ModalityWorklistInformationFind

_TOP_KEYS = [
    "AccessionNumber", "ReferringPhysicianName", "PatientName", "PatientID", "IssuerOfPatientID",
    "PatientBirthDate", "PatientSex", "StudyInstanceUID", "RequestedProcedureDescription",
    "RequestedProcedureID", "RequestedProcedurePriority", "ReasonForTheRequestedProcedure",
    "AdditionalPatientHistory", "MedicalAlerts", "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest",
]
_STEP_KEYS = [
    "Modality", "ScheduledStationAETitle", "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime",
    "ScheduledPerformingPhysicianName", "ScheduledProcedureStepDescription", "ScheduledProcedureStepID",
    "ScheduledProcedureStepStatus", "BodyPartExamined",
]


def mwl_identifier(*, date_from: str = "", date_to: str = "", modality: str = "", accession: str = "",
                   patient_id: str = "", station_ae: str = "", charset: str = UTF8) -> Dataset:
    """The Modality Worklist query identifier.

    Parameters
    ----------
    date_from, date_to : str
        Scheduled Procedure Step Start Date range, YYYYMMDD (inclusive; either may be empty).
    modality, accession, patient_id, station_ae : str
        Single-value matching keys; empty means any.
    """
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    for kw in _TOP_KEYS:
        setattr(ds, kw, "")
    ds.AccessionNumber = accession
    ds.PatientID = patient_id
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = ""
    ds.IssuerOfAccessionNumberSequence = [issuer]
    code = Dataset()
    code.CodeValue = ""
    code.CodingSchemeDesignator = ""
    code.CodeMeaning = ""
    ds.RequestedProcedureCodeSequence = [code]
    step = Dataset()
    for kw in _STEP_KEYS:
        setattr(step, kw, "")
    step.Modality = modality
    step.ScheduledStationAETitle = station_ae
    if date_from or date_to:
        step.ScheduledProcedureStepStartDate = date_from if date_from == date_to else f"{date_from}-{date_to}"
    ds.ScheduledProcedureStepSequence = [step]
    return ds


def query_worklist(node: Node | Peer, calling_ae: str, identifier: Dataset | None = None,
                   cancel: Cancel | None = None) -> Iterator[Dataset]:
    """Yield each Modality Worklist answer of ``node`` to ``identifier`` (default: every order).

    Raises
    ------
    NetworkError
        No association; :class:`NoAcceptedContext` when the node does not offer
        the Modality Worklist (the message says so); :class:`ServiceFailed` on a
        failure status.
    """
    peer = peer_of(node)
    ident = identifier if identifier is not None else mwl_identifier()
    if isinstance(node, Node):
        ident.SpecificCharacterSet = node.charset
    is_cancelled = cancel_check(cancel)
    started = time.monotonic()
    count = 0
    with associate(peer, calling_ae, [MWL_FIND]) as assoc:
        if not any(c.abstract_syntax == MWL_FIND for c in assoc.accepted_contexts):
            raise NoAcceptedContext(f"{peer.describe()} does not answer Modality Worklist queries", peer)
        sent = time.monotonic()
        responses = assoc.send_c_find(ident, MWL_FIND, msg_id=1)
        for status, found in responses:
            if "Status" not in status:
                raise no_response_error(peer, "Modality Worklist C-FIND", assoc, sent)
            sent = time.monotonic()
            code = int(status.Status)
            category = status_category(code)
            if category == "Pending":
                if found is not None:
                    # Some providers (DCMTK's wlmscpfs) leave the character set out although their data are in
                    # it: the query's (the node's configured one) is what such an answer is read with.
                    read_answer_text(found, ident.SpecificCharacterSet)
                    count += 1
                    yield found
                if is_cancelled():
                    assoc.send_c_cancel(1, query_model=MWL_FIND)
                continue
            if category in ("Success", "Cancel"):
                break
            raise ServiceFailed(f"{peer.describe()} refused the worklist query: {category} 0x{code:04X}", peer, code)
    log.info("MWL C-FIND at %s: %d orders in %.2f s", peer.describe(), count, time.monotonic() - started)


def answers_worklist(node: Node | Peer, calling_ae: str) -> tuple[bool, str]:
    """Whether ``node`` answers a Modality Worklist C-FIND, with the reason in plain words."""
    from workstation.net.association import NetworkError

    try:
        n = sum(1 for _ in query_worklist(node, calling_ae))
    except NetworkError as exc:
        return False, str(exc)
    return True, f"answered the Modality Worklist query ({n} order{'s' if n != 1 else ''})"


def test_worklist_node(node: Node, calling_ae: str) -> Iterator[Check]:
    """C-ECHO, then a Modality Worklist C-FIND: the checks ``lightbox nodes test`` shows for a worklist node.

    Yields
    ------
    workstation.net.diagnostics.Check
    """
    from workstation.net.diagnostics import Check
    from workstation.net.echo import echo

    result = echo(node, calling_ae)
    yield Check("C-ECHO", "ok" if result.ok else "failed", result.message, result.elapsed_s)
    started = time.monotonic()
    ok, message = answers_worklist(node, calling_ae)
    yield Check("MWL", "ok" if ok else "failed", message, time.monotonic() - started)
