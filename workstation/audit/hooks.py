"""One-line audit calls for the places that read, send, change or remove patient data.

Each takes what the call site already has (a study row, a node, the cache, UIDs) and looks up the
rest; each goes through :func:`workstation.audit.record` and never raises.
"""

from __future__ import annotations

import logging
from typing import Any
from collections.abc import Callable, Iterable, Mapping, Sequence

from workstation.audit import events
from workstation.audit.message import AuditEvent

log = logging.getLogger(__name__)


def _record(builder: Callable[..., AuditEvent], *args: Any, **kwargs: Any) -> None:
    from workstation.audit import record

    try:
        record(builder, *args, **kwargs)
    except Exception:  # noqa: BLE001 - a failed lookup must not stop the work being audited
        log.exception("could not record an audit event")


def patients_of(cache: Any, study_uids: Iterable[str]) -> list[tuple[str, str]]:
    """(Patient ID, name) of the studies the cache knows."""
    out = []
    for uid in study_uids:
        try:
            row = cache.study(uid) if cache is not None else None
        except Exception:  # noqa: BLE001 - a busy index: the study UID still identifies the data
            row = None
        if row is not None:
            out.append((str(row.patient_id or ""), str(row.patient_name or "")))
    return out


def _peer(node: Any) -> tuple[str, str]:
    return str(getattr(node, "ae_title", "") or getattr(node, "name", "") or ""), str(getattr(node, "host", "") or "")


def study_opened(study: Any) -> None:
    """A study shown to the reader (``study`` has study_uid, patient_id, patient_name)."""
    _record(events.instances_accessed, [study.study_uid], [(study.patient_id, study.patient_name)])


def studies_read(cache: Any, study_uids: Sequence[str], description: str = "") -> None:
    """Studies read by a command (render, snapshot, report) by their UIDs."""
    _record(events.instances_accessed, list(study_uids), patients_of(cache, study_uids), description=description)


def queried(node: Any, level: str, keys: Mapping[str, Any], ok: bool = True) -> None:
    """A query sent to ``node``; the keys go into the message as a DICOM dataset."""
    ae, host = _peer(node)
    _record(events.query, ae, host, query_dataset(level, keys), "1.2.840.10008.5.1.4.1.2.2.1", ok=ok)


MWL_FIND = "1.2.840.10008.5.1.4.31"  # Modality Worklist Information Model - FIND


def worklist_queried(node: Any, identifier: Any = None, level: str = "", keys: Mapping[str, Any] | None = None,
                     ok: bool = True) -> None:
    """One refresh of the worklist asked ``node``: one Query event per provider or archive and refresh,
    however many answers (or follow-up C-FINDs) it had.

    Parameters
    ----------
    node : Node
        The worklist provider (MWL) or archive.
    identifier : pydicom.Dataset, optional
        The MWL C-FIND identifier sent to a worklist provider.
    level, keys : str, mapping
        An archive's Study Root query (its first, date-range query) when ``identifier`` is None.
    ok : bool
        False when the peer could not be asked (the event is a minor failure).
    """
    ae, host = _peer(node)
    if identifier is not None:
        _record(events.query, ae, host, _encode(identifier), MWL_FIND, ok=ok)
    else:
        _record(events.query, ae, host, query_dataset(level or "STUDY", keys or {}),
                "1.2.840.10008.5.1.4.1.2.2.1", ok=ok)


def _encode(ds: Any) -> bytes:
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    return buf.getvalue()


def query_dataset(level: str, keys: Mapping[str, Any]) -> bytes:
    """The query's keys as an explicit VR little endian dataset (PS3.15 A.5.3.10's ParticipantObjectQuery)."""
    from pydicom import Dataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = str(level).upper()
    for k, v in keys.items():
        try:
            setattr(ds, k, v)
        except (TypeError, ValueError, AttributeError):
            continue
    if any(isinstance(v, str) and not v.isascii() for v in keys.values()):
        ds.SpecificCharacterSet = "ISO_IR 192"  # a non-Latin name typed in the query: written, not replaced by '?'
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    return buf.getvalue()


def transferred(node: Any, cache: Any, study_uids: Sequence[str], we_send: bool, ok: bool = True) -> None:
    """A retrieve (``we_send`` False) or send finished: Begin Transferring and Instances Transferred."""
    ae, host = _peer(node)
    patients = patients_of(cache, study_uids)
    _record(events.begin_transferring, ae, host, list(study_uids), patients, we_send=we_send)
    _record(events.instances_transferred, ae, host, list(study_uids), patients, we_send=we_send, ok=ok)


def exported(destination: Any, cache: Any, study_uids: Sequence[str], anonymized: bool = False,
             ok: bool = True) -> None:
    """Studies written to media, a folder or pictures."""
    _record(events.export, str(destination), list(study_uids), patients_of(cache, study_uids),
            anonymized=anonymized, ok=ok)


def deleted(patients: Sequence[tuple[str, str]], study_uids: Sequence[str], description: str) -> None:
    """Studies removed from this workstation (prune, purge, discard)."""
    _record(events.study_deleted, list(study_uids), list(patients), description=description)


def report_signed(cache: Any, study_uid: str, description: str = "report signed") -> None:
    """A report created and signed for the study (DICOM Instances Accessed, action Create)."""
    _record(events.instances_accessed, [study_uid], patients_of(cache, [study_uid]), action="C",
            description=description)


def patient_changed(patients: Sequence[tuple[str, str]], description: str, study_uids: Sequence[str] = (),
                    accessions: Sequence[str] = ()) -> None:
    """A patient's record (and with accessions, the order) corrected or merged."""
    _record(events.patient_record, list(patients), description=description)
    if accessions:
        _record(events.order_record, list(patients), list(accessions), list(study_uids), description=description)
    if study_uids:
        _record(events.instances_accessed, list(study_uids), list(patients), action="U", description=description)


def security_alert(description: str, peer: str = "", cache: Any = None, study_uids: Sequence[str] = ()) -> None:
    """Association refused, signature invalid, certificate expired."""
    from workstation.audit import codes

    _record(events.security_alert, description, peer=peer,
            event_type=codes.NODE_AUTHENTICATION if peer else None,
            patients=patients_of(cache, study_uids), study_uids=list(study_uids))


def application(started: bool) -> None:
    """The application started or stopped."""
    _record(events.application_activity, started)


def user(login: bool, ok: bool = True, description: str = "") -> None:
    """Login, logout; the screen lock (logout) and its unlock (login)."""
    _record(events.user_authentication, login, ok=ok, description=description)


def signature_checked(valid: bool, study_uid: str = "", cache: Any = None) -> None:
    """A digital signature checked: one that does not verify is a Security Alert."""
    if not valid:
        security_alert("digital signature does not verify", cache=cache, study_uids=[study_uid] if study_uid else [])


def sent(node: Any, cache: Any, sop_instance_uids: Iterable[str], ok: bool = True) -> None:
    """Instances sent to ``node`` (their studies looked up in the cache)."""
    studies: list[str] = []
    for uid in sop_instance_uids:
        try:
            row = cache.instance(uid)
        except Exception:  # noqa: BLE001 - not indexed (a loose file): no study to name
            row = None
        if row is not None and row.study_uid not in studies:
            studies.append(row.study_uid)
    transferred(node, cache, studies, we_send=True, ok=ok)


def qc_applied(cache: Any, outcome: Any, what: str) -> Any:
    """A QC correction, split or merge applied: the patients and orders of the studies before and after it.
    Returns ``outcome``, so the call can wrap the apply."""
    studies: list[str] = []
    for p in getattr(outcome, "produced", []):
        if p.study_uid not in studies:
            studies.append(p.study_uid)
    for uid in getattr(outcome, "rejected", []):
        try:
            row = cache.instance(uid)
        except Exception:  # noqa: BLE001 - gone from the index: the copies still name the study
            row = None
        if row is not None and row.study_uid not in studies:
            studies.append(row.study_uid)
    accessions = []
    for uid in studies:
        try:
            row = cache.study(uid)
        except Exception:  # noqa: BLE001
            row = None
        if row is not None and row.accession and row.accession not in accessions:
            accessions.append(row.accession)
    patient_changed(list(dict.fromkeys(patients_of(cache, studies))), f"QC {what}", studies, accessions)
    return outcome


def _studies_of_files(files: Iterable[Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Studies and patients of ``files``, read from one file of each study folder (the cache's
    ``<study>/<series>/<sop>``; a loose file is its own folder)."""
    from pathlib import Path

    import pydicom

    first: dict[str, Path] = {}
    for f in files:
        p = Path(f)
        first.setdefault(str(p.parent.parent), p)
    studies, patients = [], []
    for p in first.values():
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True,
                                 specific_tags=["SpecificCharacterSet", "PatientID", "PatientName", "StudyInstanceUID"])
        except Exception:  # noqa: BLE001 - an unreadable file is the command's to report
            continue
        uid = str(ds.get("StudyInstanceUID", ""))
        if uid and uid not in studies:
            studies.append(uid)
        patients.append((str(ds.get("PatientID", "")), str(ds.get("PatientName", ""))))
    return studies, patients


def export_requested(destination: Any, files: Iterable[Any], anonymized: bool, outcome: str = "0",
                     description: str = "") -> None:
    """An export of ``files`` (paths of the studies' objects) to ``destination`` that has ended.

    Parameters
    ----------
    destination : path-like
        The folder or ISO image written.
    files : iterable of path-like
        The studies' objects (their studies and patients are read from one file per study).
    anonymized : bool
        A de-identified copy.
    outcome : str
        EventOutcomeIndicator: ``"0"`` written, ``"4"`` cancelled by the user, ``"8"`` failed.
    description : str
        Why it did not complete (no patient data).
    """
    studies, patients = _studies_of_files(files)
    _record(events.export, str(destination), studies, patients, anonymized=anonymized, outcome=outcome,
            description=description)


def files_read(files: Iterable[Any], description: str) -> None:
    """DICOM files read by a command (render, snapshot): Instances Accessed for their studies and patients."""
    studies, patients = _studies_of_files(files)
    _record(events.instances_accessed, studies, patients, description=description)


def retrieved(node: Any, cache: Any, report: Any) -> Any:
    """A retrieve finished (``report`` a RetrieveReport); returns the report, so the call wraps the retrieve."""
    ok = not (getattr(report, "failed", 0) or getattr(report, "error", ""))
    transferred(node, cache, [getattr(report, "study_uid", "")], we_send=False, ok=ok)
    return report
