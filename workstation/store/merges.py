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
from dataclasses import dataclass

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
