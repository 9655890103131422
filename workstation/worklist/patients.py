"""Patient updates and merges from the RIS, applied to the index with the replaced values recorded.

The DICOM files are not rewritten: the index's patient row (what the study list,
the worklist and the viewer's banner show) is corrected, and every change is
kept in ``patient_changes`` (action, field, old value, new value, source, when),
so nothing is lost and a wrong update can be undone by hand.

The index's identity is the one shown; the files keep the one they were made
with.  :func:`recorded_identity` tells the viewer which of the files' values are
such recorded originals (a name an update replaced, the Patient ID and name a
merge moved a study away from), so those are shown as the index's patient and
raise no mismatch, while any other value in a file still does.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.writer import now_iso

UPDATE, MERGE = "update", "merge"
_FIELDS = (("name", "name"), ("birth_date", "birth_date"), ("sex", "sex"))


@dataclass(frozen=True)
class PatientChange:
    action: str
    patient_id: str
    issuer: str
    study_uid: str
    field: str
    old_value: str
    new_value: str
    source: str
    created: str


def _patients(con: sqlite3.Connection, patient_id: str, issuer: str) -> list[sqlite3.Row]:
    if issuer:
        rows = list(con.execute("SELECT * FROM patients WHERE patient_id=? AND issuer=?", (patient_id, issuer)))
        if rows:
            return rows
        # Issuer not recorded on our copies: the ID alone, when it names only one patient.
        rows = list(con.execute("SELECT * FROM patients WHERE patient_id=? AND issuer=''", (patient_id,)))
        return rows
    return list(con.execute("SELECT * FROM patients WHERE patient_id=?", (patient_id,)))


def _record(con: sqlite3.Connection, action: str, patient_id: str, issuer: str, study_uid: str, field: str,
            old: str | None, new: str | None, source: str, now: str) -> None:
    con.execute(
        """INSERT INTO patient_changes (action, patient_id, issuer, study_uid, field, old_value, new_value, source,
               created) VALUES (?,?,?,?,?,?,?,?,?)""",
        (action, patient_id, issuer, study_uid, field, old, new, source, now))


def update_patient(cache: StudyCache, patient_id: str, issuer: str = "", *, name: str = "", birth_date: str = "",
                   sex: str = "", source: str = "hl7") -> list[PatientChange]:
    """Correct a cached patient's demographics (empty values are left as they were).

    Returns the changes made (none when the patient is not cached or nothing differs).
    """
    wanted = {"name": name, "birth_date": birth_date, "sex": sex}
    changes: list[PatientChange] = []
    now = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        for row in _patients(con, patient_id, issuer):
            for key, column in _FIELDS:
                new = wanted[key]
                if new and new != row[column]:
                    con.execute(f"UPDATE patients SET {column}=? WHERE pk=?", (new, row["pk"]))
                    _record(con, UPDATE, patient_id, row["issuer"], "", key, row[column], new, source, now)
                    changes.append(PatientChange(UPDATE, patient_id, row["issuer"], "", key, row[column], new,
                                                 source, now))
        if changes and name:
            con.execute("UPDATE orders SET patient_name=? WHERE patient_id=?", (name, patient_id))
    return changes


def merge_patients(cache: StudyCache, surviving_id: str, prior_id: str, *, surviving_issuer: str = "",
                   prior_issuer: str = "", name: str = "", birth_date: str = "", sex: str = "",
                   source: str = "hl7") -> list[PatientChange]:
    """Show the prior patient's studies under the surviving patient (ADT^A40).

    The prior patient's row stays (its studies now point at the survivor); one change
    per study moved is recorded with the prior patient ID as the old value, and one
    with the prior patient's name when it differs from the survivor's (the files of
    the study still carry both).  When the survivor is not cached yet, it is created
    with the demographics given.
    """
    changes: list[PatientChange] = []
    now = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        priors = _patients(con, prior_id, prior_issuer)
        if not priors:
            return []
        survivors = _patients(con, surviving_id, surviving_issuer)
        if survivors:
            survivor_pk = survivors[0]["pk"]
        else:
            p = priors[0]
            cur = con.execute(
                "INSERT INTO patients (patient_id, issuer, key_extra, name, birth_date, sex) VALUES (?,?,?,?,?,?)",
                (surviving_id, surviving_issuer, "", name or p["name"], birth_date or p["birth_date"], sex or p["sex"]))
            survivor_pk = cur.lastrowid
        survivor_name = str(con.execute("SELECT name FROM patients WHERE pk=?", (survivor_pk,)).fetchone()["name"])
        for prior in priors:
            if prior["pk"] == survivor_pk:
                continue
            for study in list(con.execute("SELECT study_uid FROM studies WHERE patient_pk=?", (prior["pk"],))):
                con.execute("UPDATE studies SET patient_pk=? WHERE study_uid=?", (survivor_pk, study["study_uid"]))
                _record(con, MERGE, surviving_id, surviving_issuer, study["study_uid"], "patient_id",
                        prior_id, surviving_id, source, now)
                changes.append(PatientChange(MERGE, surviving_id, surviving_issuer, study["study_uid"], "patient_id",
                                             prior_id, surviving_id, source, now))
                if prior["name"] and prior["name"] != survivor_name:
                    _record(con, MERGE, surviving_id, surviving_issuer, study["study_uid"], "name",
                            prior["name"], survivor_name, source, now)
        con.execute("UPDATE orders SET patient_id=? WHERE patient_id=?", (surviving_id, prior_id))
    return changes


def patient_changes(cache: StudyCache, patient_id: str | None = None, study_uid: str | None = None
                    ) -> list[PatientChange]:
    """Recorded changes, oldest first (of one patient ID, old or new, or of one study)."""
    sql, args = "SELECT * FROM patient_changes", []
    where = []
    if patient_id:
        where.append("(patient_id=? OR old_value=?)")
        args += [patient_id, patient_id]
    if study_uid:
        where.append("(study_uid=? OR (study_uid='' AND patient_id IN (SELECT p.patient_id FROM studies s "
                     "JOIN patients p ON s.patient_pk=p.pk WHERE s.study_uid=?)))")
        args += [study_uid, study_uid]
    if where:
        sql += " WHERE " + " AND ".join(where)
    with cache.lock:
        rows = list(cache.connection.execute(sql + " ORDER BY pk", args))
    return [PatientChange(r["action"], r["patient_id"], r["issuer"], r["study_uid"], r["field"], r["old_value"],
                          r["new_value"], r["source"], r["created"]) for r in rows]


@dataclass(frozen=True)
class RecordedIdentity:
    """The original patient values a study's files may carry that the index has since replaced.

    ``names``: Patient's Names an update replaced (of the study's patient, or of a
    patient merged into it) and the names of the patients the study was merged away
    from; ``patient_ids``: the Patient IDs the study was merged away from (ADT^A40,
    as many as merges moved it).  A file carrying one of these is of the index's
    patient: the viewer shows the index's identity and raises no mismatch for it.
    """

    names: frozenset[str] = frozenset()
    patient_ids: frozenset[str] = frozenset()


def recorded_identity(cache: StudyCache, study_uid: str, patient_id: str, issuer: str = "") -> RecordedIdentity:
    """The recorded original values of a study's patient (see :class:`RecordedIdentity`).

    Parameters
    ----------
    cache : StudyCache
        The index holding ``patient_changes``.
    study_uid : str
        The study shown.
    patient_id, issuer : str
        Its patient as the index holds it now.

    Returns
    -------
    RecordedIdentity
        Empty when the RIS changed nothing about this study's patient.
    """
    with cache.lock:
        merged = [r for r in cache.connection.execute(
            "SELECT field, old_value FROM patient_changes WHERE action=? AND study_uid=? AND field IN ('patient_id',"
            " 'name')", (MERGE, study_uid)) if r["old_value"]]
    ids = frozenset(str(r["old_value"]) for r in merged if r["field"] == "patient_id")
    names = {str(r["old_value"]) for r in merged if r["field"] == "name"}
    names |= replaced_names(cache, patient_id, issuer)
    for prior in ids - {patient_id}:
        names |= replaced_names(cache, prior)  # corrected before the merge: the files may carry the older name
    return RecordedIdentity(frozenset(names), ids - {patient_id})


def replaced_names(cache: StudyCache, patient_id: str, issuer: str = "") -> frozenset[str]:
    """The names an update from the RIS replaced for this patient (images still carrying one are outdated)."""
    sql = "SELECT old_value FROM patient_changes WHERE action=? AND field='name' AND patient_id=?"
    args: list[str] = [UPDATE, patient_id]
    if issuer:
        sql += " AND issuer IN (?, '')"
        args.append(issuer)
    with cache.lock:
        rows = list(cache.connection.execute(sql, args))
    return frozenset(str(r["old_value"]) for r in rows if r["old_value"])
