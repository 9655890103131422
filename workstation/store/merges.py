"""Patient merges the RIS recorded (ADT^A40), as the importer follows them.

A merge moves the prior patient's studies to the surviving patient in the index
and records one ``patient_changes`` row per study moved (``action='merge'``,
``field='patient_id'``, the prior ID as the old value); the files keep the prior
identity.  Instances arriving later with the prior Patient ID are therefore of
the survivor: an instance of a merged study joins it without flagging the study
as holding two patients, and a new study under the prior ID is filed under the
survivor with the same record, so the viewer shows it as merged too.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache

MERGE = "merge"
#: Merges followed one after another (A into B, B into C ...) at most; a loop stops earlier.
_MAX_CHAIN = 16


@dataclass(frozen=True)
class Survivor:
    """The patient a merged-away Patient ID now belongs to, as the index holds it."""

    pk: int
    patient_id: str
    issuer: str
    name: str


def survivor_of(con: sqlite3.Connection, patient_id: str) -> Survivor | None:
    """The patient ``patient_id`` was merged into (following later merges), or None when it was not merged.

    Parameters
    ----------
    con : sqlite3.Connection
        The index, inside the caller's transaction.
    patient_id : str
        A Patient ID as an instance carries it (the issuer of the prior ID is not
        recorded by a merge, so it is not compared).
    """
    if not patient_id:
        return None
    current, issuer, seen = patient_id, "", {patient_id}
    for _ in range(_MAX_CHAIN):
        row = con.execute(
            "SELECT patient_id, issuer FROM patient_changes WHERE action=? AND field='patient_id' AND old_value=?"
            " ORDER BY pk DESC LIMIT 1", (MERGE, current)).fetchone()
        if row is None or row["patient_id"] in seen:
            break
        current, issuer = str(row["patient_id"]), str(row["issuer"])
        seen.add(current)
    if current == patient_id:
        return None
    row = con.execute("SELECT pk, patient_id, issuer, name FROM patients WHERE patient_id=? ORDER BY issuer!=?, pk"
                      " LIMIT 1", (current, issuer)).fetchone()
    if row is None:
        return None
    return Survivor(int(row["pk"]), str(row["patient_id"]), str(row["issuer"]), str(row["name"]))


def is_merged_study(con: sqlite3.Connection, study_uid: str, patient_id: str) -> bool:
    """True when a recorded merge moved ``study_uid`` away from ``patient_id`` (its files may still carry it)."""
    return con.execute(
        "SELECT 1 FROM patient_changes WHERE action=? AND field='patient_id' AND study_uid=? AND old_value=? LIMIT 1",
        (MERGE, study_uid, patient_id)).fetchone() is not None


def record_late_merge(con: sqlite3.Connection, survivor: Survivor, study_uid: str, patient_id: str,
                      patient_name: str, when: str) -> None:
    """Record that a study arriving under a merged-away ``patient_id`` was filed under ``survivor``.

    The same rows a merge writes for the studies it moves, so the study list, the
    order header and the viewer treat the study as merged.
    """
    rows = [("patient_id", patient_id, survivor.patient_id)]
    if patient_name and patient_name != survivor.name:
        rows.append(("name", patient_name, survivor.name))
    con.executemany(
        """INSERT INTO patient_changes (action, patient_id, issuer, study_uid, field, old_value, new_value, source,
               created) VALUES (?,?,?,?,?,?,?,?,?)""",
        [(MERGE, survivor.patient_id, survivor.issuer, study_uid, field, old, new, "import after a merge", when)
         for field, old, new in rows])


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip().rstrip("^")


@dataclass(frozen=True)
class ShownPatient:
    """The patient a merged study is shown under, and the identities its files may still carry.

    Objects Lightbox makes from such a study's images (key images, presentation
    states, reports, QC copies and notes) are written with this identity, not
    the merged-away one the images carry: the RIS merged the patients, and an
    archive receiving an object under the retired ID would file it under the
    wrong patient.  The prior IDs go into Other Patient IDs Sequence.

    Attributes
    ----------
    patient_id, issuer, name, birth_date, sex : str
        The surviving patient as the index holds it (what the study list shows).
    prior_ids : tuple of str
        The Patient IDs merges moved the study away from, oldest first.
    prior_names : frozenset of str
        The names those patients had (merged away, or replaced by an update before).
    """

    patient_id: str
    issuer: str
    name: str
    birth_date: str
    sex: str
    prior_ids: tuple[str, ...]
    prior_names: frozenset[str]

    def carried_by(self, patient_id: str, name: str) -> bool:
        """True when an image naming (``patient_id``, ``name``) is of this patient under a merged-away identity.

        The name must be a recorded one (or empty): an image under the prior ID
        naming someone else is a genuine mismatch, not rewritten into the survivor.
        """
        if patient_id not in self.prior_ids:
            return False
        known = {_fold(n) for n in self.prior_names | {self.name}}
        return not _fold(name) or _fold(name) in known


def shown_patient(cache: StudyCache, study_uid: str) -> ShownPatient | None:
    """The identity objects made from ``study_uid``'s images are written with, or None when it was not merged.

    The one place that says which patient a new object of a study belongs to
    when the RIS merged patients (ADT^A40, or a study arriving under a
    merged-away ID): the index's patient of the study, with the recorded prior
    IDs and names (see :class:`ShownPatient`).

    Parameters
    ----------
    cache : StudyCache
        The index.
    study_uid : str
        The study the new object belongs to.
    """
    with cache.lock:
        con = cache.connection
        changes = list(con.execute(
            "SELECT field, old_value FROM patient_changes WHERE action=? AND study_uid=? AND field IN"
            " ('patient_id', 'name') ORDER BY pk", (MERGE, study_uid)))
        if not any(r["field"] == "patient_id" and r["old_value"] for r in changes):
            return None
        row = con.execute("SELECT p.patient_id, p.issuer, p.name, p.birth_date, p.sex FROM studies s JOIN patients p"
                          " ON s.patient_pk=p.pk WHERE s.study_uid=?", (study_uid,)).fetchone()
        if row is None:
            return None
        ids = tuple(dict.fromkeys(str(r["old_value"]) for r in changes if r["field"] == "patient_id"
                                  and r["old_value"] and r["old_value"] != row["patient_id"]))
        names = {str(r["old_value"]) for r in changes if r["field"] == "name" and r["old_value"]}
        for prior in ids:  # names an update replaced before the merge: the files may carry the older one
            names |= {str(r["old_value"]) for r in con.execute(
                "SELECT old_value FROM patient_changes WHERE action='update' AND field='name' AND patient_id=?",
                (prior,)) if r["old_value"]}
    if not ids:
        return None
    return ShownPatient(str(row["patient_id"]), str(row["issuer"]), str(row["name"]), str(row["birth_date"]),
                        str(row["sex"]), ids, frozenset(names))
