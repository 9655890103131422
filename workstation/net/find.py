"""C-FIND SCU: query a node at PATIENT, STUDY, SERIES or IMAGE level.

:func:`build_identifier` (pure, no network) turns ``{"PatientName": "DOE*",
"StudyDate": (date(2024, 1, 1), None)}`` into a query identifier with the
return keys Lightbox shows; :func:`find` sends it and yields the matches as
they arrive, dropping duplicates by the level's unique key: some archives
(pynetdicom's qrscp among them) answer STUDY and SERIES queries with one
response per stored instance.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pynetdicom.status import QR_FIND_SERVICE_CLASS_STATUS

from workstation.config import Node
from workstation.dicom.charset import UTF8, query_character_set
from workstation.dicom.uids import is_safe_uid
from workstation.net.answer_charset import read_answer_text
from workstation.net.association import (
    Cancel,
    MalformedResponse,
    Peer,
    ServiceFailed,
    associate,
    cancel_check,
    no_response_error,
    peer_of,
    status_category,
)
from workstation.net.query_match import FilteredAnswers
from workstation.net.study_patients import remember
from workstation.net.sop_class_names import (
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
)

log = logging.getLogger(__name__)

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")

#: The unique key of each level (PS3.4 C.3).
UNIQUE_KEYS = {
    "PATIENT": "PatientID",
    "STUDY": "StudyInstanceUID",
    "SERIES": "SeriesInstanceUID",
    "IMAGE": "SOPInstanceUID",
}

_PATIENT_KEYS = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]

#: Return keys asked for at each level (empty values: "send me this").
RETURN_KEYS = {
    "PATIENT": _PATIENT_KEYS + ["NumberOfPatientRelatedStudies"],
    "STUDY": [
        "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyDescription",
        "ModalitiesInStudy", "ReferringPhysicianName", "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
    ],
    "SERIES": [
        "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "SeriesDate", "SeriesTime",
        "BodyPartExamined", "NumberOfSeriesRelatedInstances",
    ],
    "IMAGE": ["SOPInstanceUID", "SOPClassUID", "InstanceNumber", "NumberOfFrames", "Rows", "Columns"],
}

# Keys that only make sense below a level, with what to ask instead at it.
_LEVEL_OF_KEY = {kw: level for level, kws in RETURN_KEYS.items() for kw in kws}
_LEVEL_OF_KEY.update({kw: "PATIENT" for kw in _PATIENT_KEYS})
_SUBSTITUTE = {("STUDY", "Modality"): "ModalitiesInStudy"}

_DATE_VRS = ("DA", "TM", "DT")

_BINARY_VRS = {"US", "UL", "SS", "SL", "FL", "FD", "AT", "UV", "SV"}
_EMPTY_BINARY = None  # a zero-length value of a binary VR



# Query keys (pure) ---------------------------------------------------------------------
def normalise_level(level: str) -> str:
    """``"study"`` -> ``"STUDY"``; ``INSTANCE`` is accepted for ``IMAGE``."""
    lv = str(level).strip().upper()
    lv = "IMAGE" if lv == "INSTANCE" else lv
    if lv not in LEVELS:
        raise ValueError(f"unknown query level {level!r}: one of {', '.join(LEVELS)}")
    return lv


def _format_point(vr: str, value: Any) -> str:
    if value is None:
        return ""
    if vr == "DA" and isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y%m%d")
    if vr == "TM" and isinstance(value, (dt.time, dt.datetime)):
        return value.strftime("%H%M%S")
    if vr == "DT" and isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if vr == "DT" and isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    text = str(value).strip()
    allowed = {"DA": set("0123456789"), "TM": set("0123456789."), "DT": set("0123456789.+-")}[vr]
    if not set(text) <= allowed:
        raise ValueError(f"invalid {vr} value {text!r}: digits only (e.g. 20240131)")
    if vr == "DA" and len(text) != 8:
        raise ValueError(f"invalid date {text!r}: YYYYMMDD")
    return text


def query_value(keyword: str, value: Any) -> Any:
    """The identifier value for one query key.

    Parameters
    ----------
    keyword : str
        A DICOM keyword (``"StudyDate"``).
    value : any
        ``None`` or ``""``: universal matching (return the attribute).
        Dates and times: a ``date``/``time``/``datetime``, a string, or a
        ``(start, end)`` pair for a range where either end may be ``None``
        (``(date(2024, 1, 1), None)`` -> ``"20240101-"``); a string range
        ``"20240101-20240131"`` is checked and kept.
        UIDs: a string or a list of UIDs (list-of-UID matching); no wildcards.
        Text: kept as given, ``*`` and ``?`` are wildcards.

    Returns
    -------
    str or list of str
    """
    if tag_for_keyword(keyword) is None:
        raise ValueError(f"unknown DICOM keyword {keyword!r}")
    vr = dictionary_VR(keyword)
    if value is None or value == "":
        return _EMPTY_BINARY if vr in _BINARY_VRS else ""
    if vr in _DATE_VRS:
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise ValueError(f"{keyword}: a range is a (start, end) pair")
            start, end = (_format_point(vr, v) for v in value)
            if not start and not end:
                return ""
            return f"{start}-{end}"
        if not isinstance(value, str):
            return _format_point(vr, value)
        text = value.strip()
        if vr == "DT":
            # A DT may carry a "-hhmm" UTC offset, so a DT range string is kept as given.
            return _format_point(vr, text or None)
        if text.count("-") > 1:
            raise ValueError(f"{keyword}: {text!r} is not a {vr} value or range")
        if "-" in text:
            start, end = (_format_point(vr, part.strip() or None) for part in text.split("-"))
            if not start and not end:
                raise ValueError(f"{keyword}: an empty range '-'")
            return f"{start}-{end}"
        return _format_point(vr, text or None)
    if vr == "UI":
        uids = [str(v).strip() for v in value] if isinstance(value, (list, tuple, set)) else [str(value).strip()]
        uids = [u for u in uids if u]
        for u in uids:
            if not is_safe_uid(u):
                raise ValueError(f"{keyword}: {u!r} is not a UID (no wildcards in UIDs)")
        if not uids:
            return ""
        return uids[0] if len(uids) == 1 else uids
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if vr in _BINARY_VRS:
        return int(value) if vr not in ("FL", "FD") else float(value)
    if vr in ("IS", "DS"):
        return str(value).strip()
    return str(value)


def build_identifier(
    level: str,
    keys: Mapping[str, Any] | None = None,
    *,
    model: str = "study",
    charset: str | None = None,
) -> Dataset:
    """Build a C-FIND identifier (pure: no network).

    Parameters
    ----------
    level : str
        ``PATIENT``, ``STUDY``, ``SERIES`` or ``IMAGE``.
    keys : mapping of keyword to value, optional
        Matching keys (see :func:`query_value`).  ``Modality`` at STUDY level
        becomes ``ModalitiesInStudy``.
    model : {"study", "patient"}
        The information model; PATIENT level is always patient root.
    charset : str, optional
        The node's Specific Character Set, declared when a value is not plain
        ASCII (default ``ISO_IR 192``, UTF-8; ``""``: the default repertoire).

    Returns
    -------
    pydicom.dataset.Dataset
        The identifier: Query/Retrieve Level, the upper levels' unique keys
        (empty unless given), the level's return keys and the given keys.

    Raises
    ------
    ValueError
        A key that is not valid; :class:`~workstation.dicom.charset.CharsetError`
        when a value cannot be encoded in ``charset`` (it would become ``?``,
        a wildcard, so nothing may be sent).
    """
    lv = normalise_level(level)
    model = "patient" if lv == "PATIENT" else model
    if model not in ("study", "patient"):
        raise ValueError(f"unknown query model {model!r}: 'study' or 'patient'")
    hierarchy = list(LEVELS) if model == "patient" else list(LEVELS[1:])
    depth = hierarchy.index(lv)

    ds = Dataset()
    ds.QueryRetrieveLevel = lv
    # Unique keys of the levels above: archives that check the hierarchy want them present.
    for upper in hierarchy[:depth]:
        setattr(ds, UNIQUE_KEYS[upper], "")
    wanted = list(RETURN_KEYS[lv])
    if lv == "STUDY" and model == "study":
        wanted += _PATIENT_KEYS
    for kw in wanted:
        if kw not in ds:
            setattr(ds, kw, _EMPTY_BINARY if dictionary_VR(kw) in _BINARY_VRS else "")
    below = set(hierarchy[depth + 1 :])
    texts: list[str] = []
    for kw, value in (keys or {}).items():
        kw = _SUBSTITUTE.get((lv, kw), kw)
        if _LEVEL_OF_KEY.get(kw) in below:
            raise ValueError(f"{kw} is a {_LEVEL_OF_KEY[kw]}-level key and cannot be matched in a {lv} query")
        converted = query_value(kw, value)
        texts += [t for t in (converted if isinstance(converted, list) else [converted]) if isinstance(t, str)]
        setattr(ds, kw, converted)
    declared = query_character_set(texts, UTF8 if charset is None else charset)
    if declared is not None:
        terms = declared.split("\\") if isinstance(declared, str) else list(declared)
        ds.SpecificCharacterSet = terms[0] if len(terms) == 1 else terms
    return ds


def dedup_key(identifier: Dataset, level: str) -> tuple[str, ...] | None:
    """The value that identifies one entity at ``level``, or None when the response lacks it."""
    value = str(identifier.get(UNIQUE_KEYS[level], "") or "").strip()
    if not value:
        return None
    if level == "PATIENT":
        return (value, str(identifier.get("IssuerOfPatientID", "") or ""))
    return (value,)


# Network ---------------------------------------------------------------------------


def find(
    node: Node | Peer,
    calling_ae: str,
    level: str,
    identifier_keys: Mapping[str, Any] | None = None,
    cancel: Cancel | None = None,
    *,
    model: str | None = None,
) -> FilteredAnswers:
    """Query ``node`` and yield each distinct match as it arrives.

    Parameters
    ----------
    node : Node or Peer
        The archive.
    calling_ae : str
        Our AE title.
    level : str
        ``PATIENT``, ``STUDY``, ``SERIES`` or ``IMAGE``.
    identifier_keys : mapping, optional
        Matching keys for :func:`build_identifier`.
    cancel : callable returning bool, or threading.Event, optional
        Checked after each match; when set, a C-CANCEL is sent and the
        iteration ends.  Closing the iterator early does the same.
    model : {"study", "patient"}, optional
        Overrides the node's query model (study root for a bare Peer).

    Returns
    -------
    FilteredAnswers
        An iterator of response identifiers, without duplicates of the
        level's unique key and without answers that do not match the keys
        sent (an archive ignoring a key cannot bring another patient or
        modality in; its ``note()`` says what was left out, also logged).
        Keys are checked now (ValueError, CharsetError for a value the
        node's character set cannot hold); the association opens on the
        first ``next()``.

    Raises
    ------
    NetworkError
        While iterating: no association, no response in time, or a failure
        status (:class:`~workstation.net.association.ServiceFailed`).
    """
    peer = peer_of(node)
    lv = normalise_level(level)
    chosen = model or (node.query_model if isinstance(node, Node) else "study")
    chosen = "patient" if lv == "PATIENT" else chosen
    charset = node.charset if isinstance(node, Node) else None
    identifier = build_identifier(lv, identifier_keys, model=chosen, charset=charset)
    sop_class = (
        PatientRootQueryRetrieveInformationModelFind if chosen == "patient"
        else StudyRootQueryRetrieveInformationModelFind
    )
    checker = cancel_check(cancel)

    def series_modalities(study: Dataset) -> list[str]:
        # An archive that leaves Modalities in Study empty is asked for the study's series instead.
        keys = {"StudyInstanceUID": str(study.StudyInstanceUID)}
        if chosen == "patient":
            keys["PatientID"] = str(study.get("PatientID", "") or "")
        series = build_identifier("SERIES", keys, model=chosen)
        answers = _run_find(peer, calling_ae, "SERIES", series, sop_class, checker)
        return sorted({str(ds.get("Modality", "") or "") for ds in answers} - {""})

    return FilteredAnswers(_run_find(peer, calling_ae, lv, identifier, sop_class, checker, charset), identifier,
                           _log_left_out, series_modalities if lv == "STUDY" else None)


def _log_left_out(answers: FilteredAnswers) -> None:
    if answers.dropped:
        log.info("C-FIND: %s", answers.note())


def _run_find(
    peer: Peer,
    calling_ae: str,
    level: str,
    identifier: Dataset,
    sop_class: str,
    is_cancelled: Callable[[], bool],
    charset: str | None = None,
) -> Iterator[Dataset]:
    if is_cancelled():
        return
    started = time.monotonic()
    seen: set[tuple[str, ...]] = set()
    received = 0
    undecodable = 0
    last_bad: object = None
    with associate(peer, calling_ae, [sop_class]) as assoc:
        sent = time.monotonic()
        responses = assoc.send_c_find(identifier, sop_class, msg_id=1)
        finished = cancel_sent = False
        try:
            for status, found in responses:
                if "Status" not in status:
                    raise no_response_error(peer, f"C-FIND at {level} level", assoc, sent)
                sent = time.monotonic()  # the DIMSE timeout runs from the last response
                code = int(status.Status)
                category = status_category(code)
                if category == "Pending":
                    if found is not None:
                        read_answer_text(found, charset)  # an answer without its character set: the node's
                    if found is None or not _decodable(found):
                        # pynetdicom yields an undecodable response twice (same status object): count it once.
                        if status is not last_bad:
                            received += 1
                            undecodable += 1
                            last_bad = status
                        continue
                    received += 1
                    if cancel_sent:
                        continue
                    key = dedup_key(found, level)
                    if key is not None:
                        if key in seen:
                            continue
                        seen.add(key)
                    remember(peer, found)  # a patient-root retrieve of this study needs its Patient ID
                    yield found
                    if is_cancelled():
                        assoc.send_c_cancel(1, query_model=sop_class)
                        cancel_sent = True
                    continue
                finished = True
                if category in ("Success", "Cancel"):
                    break
                if undecodable:
                    break  # the failure is reported below with the malformed responses
                text = QR_FIND_SERVICE_CLASS_STATUS.get(code, (category, ""))[1]
                raise ServiceFailed(
                    f"{peer.describe()} refused the {level} query: {category} 0x{code:04X}"
                    + (f" ({text})" if text else ""),
                    peer,
                    code,
                )
        except GeneratorExit:
            if not finished and assoc.is_established:
                _cancel_and_drain(assoc, responses, sop_class, peer.timeout)
            raise
    log.info(
        "C-FIND %s at %s: %d responses, %d distinct%s in %.2f s",
        level, peer.describe(), received, len(seen), " (cancelled)" if cancel_sent else "", time.monotonic() - started,
    )
    if undecodable:
        raise MalformedResponse(
            f"{undecodable} of {received} responses from {peer.describe()} to the {level} query could not be "
            "decoded (malformed identifier) and were left out — the archive's data may be damaged", peer)


def _decodable(identifier: Dataset) -> bool:
    """True when the response identifier's sequences can be read too.

    pynetdicom has parsed the top level already (or given None); pydicom
    parses a sequence's items only when it is first read, so a damaged
    sequence would otherwise surface later, in whoever reads it.  Plain
    values are left unconverted: pydicom reads damaged ones leniently, and
    converting every value of a thousand responses here would cost more than
    the query itself.
    """
    try:
        for tag in list(identifier.keys()):
            raw = identifier.get_item(tag)
            vr = getattr(raw, "VR", None) or _dictionary_vr(tag)
            if vr == "SQ":
                for item in identifier[tag].value:
                    if not _decodable(item):
                        return False
        return True
    except Exception:  # noqa: BLE001 - whatever pydicom raises on a damaged value
        return False


def _dictionary_vr(tag: Any) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _cancel_and_drain(assoc: Any, responses: Iterator[Any], sop_class: str, limit_s: float) -> None:
    """Send C-CANCEL and read the remaining responses for at most ``limit_s`` seconds."""
    try:
        assoc.send_c_cancel(1, query_model=sop_class)
        deadline = time.monotonic() + min(limit_s, 5.0)
        for status, _found in responses:
            if "Status" not in status or status_category(int(status.Status)) != "Pending":
                break
            if time.monotonic() > deadline:
                break
    except Exception:  # noqa: BLE001 - the association is released (or aborted) next anyway
        log.debug("C-CANCEL after early close failed", exc_info=True)
