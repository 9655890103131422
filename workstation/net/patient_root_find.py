"""A study search on a Patient Root archive: the patients first, then each one's studies.

In the Patient Root model the patient's name, ID, birth date and sex are
PATIENT-level attributes: a STUDY-level answer need not carry them, and a
strictly hierarchical archive refuses a STUDY-level query that matches on the
name or lacks the Patient ID (0xA900, PS3.4 C.4.1.2.2.1).  So a search is
asked as a hierarchical one: a PATIENT-level C-FIND with the patient keys
given, then one STUDY-level C-FIND per patient found with its Patient ID and
the study keys.  Each study answer gets its patient's name, ID, birth date and
sex, so it reads like a Study Root answer.

At most :data:`PATIENT_LIMIT` patients are followed (each costs a query); when
the archive had more, :attr:`PatientRootStudies.capped` says so and
:meth:`PatientRootStudies.note` tells the reader to narrow the search.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator, Mapping
from typing import Any

from pydicom.dataset import Dataset

from workstation.config import Node
from workstation.net.association import Cancel, cancel_check
from workstation.net import find as query  # find() looked up at each call (tests stand in for the archive)
from workstation.net.query_match import FilteredAnswers

#: Patients followed at most by one search (one STUDY-level query each).
PATIENT_LIMIT = 50

#: The keys matched at PATIENT level; every other key is a study key.
PATIENT_KEYS = frozenset({"PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex"})
#: What a study answer takes from its patient's answer.
_CARRIED = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex")


def split_keys(keys: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The matching keys of a study search as (PATIENT-level keys, STUDY-level keys).

    Parameters
    ----------
    keys : mapping of keyword to value
        As given to :func:`workstation.net.find.build_identifier` at STUDY level.

    Returns
    -------
    tuple of dict
        The patient keys (name, ID, issuer, birth date, sex) and the rest.
    """
    patient = {k: v for k, v in keys.items() if k in PATIENT_KEYS}
    study = {k: v for k, v in keys.items() if k not in PATIENT_KEYS}
    return patient, study


def uses_patient_root(node: object) -> bool:
    """True when a study search on ``node`` is asked patient first (a DIMSE node set to Patient Root)."""
    return (isinstance(node, Node) and node.query_model == "patient"
            and not (node.retrieve == "dicomweb" and node.url))


class PatientRootStudies(Iterator[Dataset]):
    """Study answers of a hierarchical search, each carrying its patient's keys.

    Iterate it like :func:`workstation.net.find.find`'s answers; the
    association of each query opens on the first ``next()`` that needs it.

    Attributes
    ----------
    patients : int
        Patients whose studies were (or are being) asked for.
    capped : bool
        The archive had more than :data:`PATIENT_LIMIT` matching patients;
        only the first were followed.
    shared_ids : int
        Patient IDs the archive gave several patients (other issuers): their
        studies are listed without a patient's name, birth date or sex.
    """

    def __init__(self, node: Node, calling_ae: str, keys: Mapping[str, Any], cancel: Cancel | None = None,
                 *, patient_limit: int | None = None) -> None:
        patient_limit = PATIENT_LIMIT if patient_limit is None else patient_limit
        if patient_limit < 1:
            raise ValueError("patient_limit must be at least 1")
        self._node = node
        self._ae = calling_ae
        self._patient_keys, self._study_keys = split_keys(keys)
        self._cancel = cancel
        self._cancelled = cancel_check(cancel)
        self._limit = patient_limit
        self._filtered: list[FilteredAnswers] = []
        self.patients = 0
        self.capped = False
        self.shared_ids = 0
        # Check every key now, as find() does: a bad one fails before any association.
        self._filtered.append(query.find(node, calling_ae, "PATIENT", self._patient_keys, cancel))
        query.build_identifier("STUDY", {**self._study_keys, "PatientID": "-"}, model="patient", charset=node.charset)
        self._answers = self._studies()

    def _found_patients(self) -> list[Dataset]:
        """The first ``patient_limit`` matching patients (one more is read to know whether there were more)."""
        answers = self._filtered[0]
        found: list[Dataset] = []
        try:
            for patient in answers:
                if not _patient_id(patient):
                    continue  # a patient without an ID cannot be asked for its studies
                if len(found) == self._limit:
                    self.capped = True
                    break
                found.append(patient)
                if self._cancelled():
                    break
        finally:
            answers.close()  # cancels the query when it was left early
        return found

    def _studies(self) -> Generator[Dataset, None, None]:
        patients = self._found_patients()
        holders = Counter(_patient_id(p) for p in patients)
        asked: set[str] = set()
        for patient in patients:
            patient_id = _patient_id(patient)
            if patient_id in asked:
                continue
            asked.add(patient_id)
            if self._cancelled():
                return
            self.patients += 1
            # One Patient ID, several patients (other issuers): the STUDY query cannot tell whose a study is,
            # so no name is put on its studies rather than perhaps the wrong one.
            shared = holders[patient_id] > 1
            self.shared_ids += shared
            keys = {**self._study_keys, "PatientID": patient_id}
            studies = query.find(self._node, self._ae, "STUDY", keys, self._cancel, model="patient")
            self._filtered.append(studies)
            try:
                for study in studies:
                    yield study if shared else _with_patient(study, patient)
            finally:
                studies.close()

    def __iter__(self) -> PatientRootStudies:
        return self

    def __next__(self) -> Dataset:
        return next(self._answers)

    def close(self) -> None:
        """Stop the search (the query under way is cancelled)."""
        self._answers.close()

    def note(self) -> str | None:
        """One sentence on the answers left out and on the patients not followed, or None."""
        total = FilteredAnswers(iter(()), Dataset())
        total.left_out = sum((f.left_out for f in self._filtered), Counter())
        total.dropped = sum(f.dropped for f in self._filtered)
        total.unchecked = sum(f.unchecked for f in self._filtered)
        parts = [total.note() or ""]
        if self.capped:
            first = "the first patient's" if self._limit == 1 else f"the first {self._limit} patients'"
            parts.append(f"more than {self._limit} patient{'s' if self._limit != 1 else ''} match: "
                         f"{first} studies are listed (narrow the search)")
        if self.shared_ids:
            parts.append(f"{self.shared_ids} Patient ID{'s belong' if self.shared_ids != 1 else ' belongs'} to "
                         "several patients on the archive (other issuers): their studies are listed without a name")
        return "; ".join(p for p in parts if p) or None


def _patient_id(patient: Dataset) -> str:
    return str(patient.get("PatientID", "") or "").strip()


def _with_patient(study: Dataset, patient: Dataset) -> Dataset:
    """``study`` with its patient's name, ID, birth date and sex where it does not give them."""
    for keyword in _CARRIED:
        if keyword in patient and not str(study.get(keyword, "") or "").strip():
            study[keyword] = patient[keyword]
    return study


def find_studies(node: Node, calling_ae: str, keys: Mapping[str, Any], cancel: Cancel | None = None,
                 *, patient_limit: int | None = None) -> PatientRootStudies | FilteredAnswers:
    """The studies of ``node`` matching ``keys``, asked as the node's query model wants.

    Parameters
    ----------
    node : Node
        The archive; a Patient Root node is asked patient first
        (:class:`PatientRootStudies`), any other with one STUDY-level query.
    calling_ae : str
        Our AE title.
    keys : mapping of keyword to value
        Matching keys at STUDY level (patient keys included).
    cancel : callable returning bool, or threading.Event, optional
        Ends the search (with C-CANCEL) when set.
    patient_limit : int, optional
        Patients followed at most on a Patient Root node (default
        :data:`PATIENT_LIMIT`).

    Returns
    -------
    PatientRootStudies or FilteredAnswers
        The study answers; both have ``note()`` and ``close()``.

    Raises
    ------
    ValueError
        A key that cannot be asked (at once).
    NetworkError
        While iterating: no association, or a refused query.
    """
    if uses_patient_root(node):
        return PatientRootStudies(node, calling_ae, keys, cancel, patient_limit=patient_limit)
    return query.find(node, calling_ae, "STUDY", keys, cancel)
