"""What the Remote tab asks an archive and how it shows the answers (no Qt).

The filters of the study list become C-FIND (or QIDO-RS) matching keys;
each study-level answer becomes a :class:`RemoteStudy` row.  Text without a
wildcard matches as a prefix for names ("Mül" finds "Müller") and exactly for
IDs and accession numbers, as archives match them.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Iterable, Iterator

from pydicom.dataset import Dataset

from workstation import audit
from workstation.store.queries import StudyFilter


@dataclass(frozen=True)
class RemoteStudy:
    """One study an archive holds."""

    study_uid: str
    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    description: str
    accession: str
    modalities: str
    num_series: str
    num_instances: str


def _name_key(text: str) -> str:
    text = text.strip()
    if not text or "*" in text or "?" in text:
        return text
    return f"{text}*"


def query_keys(flt: StudyFilter) -> dict[str, str]:
    """C-FIND matching keys for the study list's filters (empty filters are left out)."""
    keys = {
        "PatientName": _name_key(flt.patient_name),
        "PatientID": flt.patient_id.strip(),
        "AccessionNumber": flt.accession.strip(),
        "Modality": flt.modality.strip(),
    }
    if flt.date_from or flt.date_to:
        keys["StudyDate"] = f"{flt.date_from}-{flt.date_to}" if flt.date_from != flt.date_to else flt.date_from
    return {k: v for k, v in keys.items() if v}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def remote_study(ds: Dataset) -> RemoteStudy:
    """A study-level answer as a row."""
    return RemoteStudy(
        study_uid=_text(ds.get("StudyInstanceUID")),
        patient_name=_text(ds.get("PatientName")),
        patient_id=_text(ds.get("PatientID")),
        birth_date=_text(ds.get("PatientBirthDate")),
        sex=_text(ds.get("PatientSex")),
        study_date=_text(ds.get("StudyDate")),
        study_time=_text(ds.get("StudyTime")),
        description=_text(ds.get("StudyDescription")),
        accession=_text(ds.get("AccessionNumber")),
        modalities=_text(ds.get("ModalitiesInStudy")),
        num_series=_text(ds.get("NumberOfStudyRelatedSeries")),
        num_instances=_text(ds.get("NumberOfStudyRelatedInstances")),
    )


def stream_studies(node, ae_title: str, flt: StudyFilter,
                   cancel: Callable[[], bool] | None = None, notes: list[str] | None = None) -> Iterator[RemoteStudy]:
    """Yield each distinct study matching ``flt`` as the archive's answer arrives.

    A study answered twice (archives that answer once per instance) is yielded
    once.  On a Patient Root node the patients matching the patient keys are
    found first and their studies asked one patient at a time
    (:mod:`workstation.net.patient_root_find`); each row carries its
    patient's name, ID, birth date and sex.  Closing the iterator early, or
    ``cancel`` returning True, ends the C-FIND with a C-CANCEL.  Answers that
    do not match the filter (an archive ignoring a key) are left out;
    ``notes``, when given, receives the one sentence that says so, and that
    only the first patients were followed when more matched.

    Raises
    ------
    workstation.net.association.NetworkError
        While iterating: the archive cannot be reached or refuses the query.
    ValueError
        A filter the archive cannot be asked.
    """
    keys = query_keys(flt)
    audit.queried(node, "STUDY", keys)
    answers: Iterable[Dataset]
    if node.retrieve == "dicomweb" and node.url:
        from workstation.net.dicomweb import qido

        from workstation.net.find import build_identifier
        from workstation.net.query_match import FilteredAnswers

        answers = FilteredAnswers(iter(qido(node, "STUDY", keys)), build_identifier("STUDY", keys))
    else:
        from workstation.net.patient_root_find import find_studies

        # A Patient Root node is asked for the patients first, then each one's studies.
        answers = find_studies(node, ae_title, keys, cancel)
    seen: set[str] = set()
    for ds in answers:
        row = remote_study(ds)
        if row.study_uid in seen:
            continue
        seen.add(row.study_uid)
        yield row
        if cancel is not None and cancel():
            break
    note = answers.note() if hasattr(answers, "note") else None
    if note and notes is not None:
        notes.append(note)


def search_studies(node, ae_title: str, flt: StudyFilter, cancel: Callable[[], bool] | None = None,
                   limit: int = 1000) -> list[RemoteStudy]:
    """Ask ``node`` for the studies matching ``flt``, newest first (at most ``limit``).

    Raises
    ------
    workstation.net.association.NetworkError
        The archive cannot be reached or refuses the query.
    ValueError
        A filter the archive cannot be asked.
    """
    keys = query_keys(flt)
    audit.queried(node, "STUDY", keys)
    answers: Iterable[Dataset]
    if node.retrieve == "dicomweb" and node.url:
        from workstation.net.dicomweb import qido

        answers = qido(node, "STUDY", keys)
    else:
        from workstation.net.patient_root_find import find_studies

        answers = find_studies(node, ae_title, keys, cancel)
    rows = []
    for ds in answers:
        rows.append(remote_study(ds))
        if len(rows) >= limit or (cancel is not None and cancel()):
            break
    rows.sort(key=lambda r: (r.study_date, r.study_time), reverse=True)
    return rows
