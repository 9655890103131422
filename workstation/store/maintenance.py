"""Keeping the cache honest: verify and repair the index against the files, evict old studies."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.layout import CONFLICTS, INCOMING, content_hash, resolve_inside, stage_bytes, writer_alive
from workstation.store.writer import PendingInstance, refresh_study_summary

log = logging.getLogger(__name__)

LOST = ".lost"  # files repair could not index: moved here, never deleted


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # SOP Instance UIDs whose file is gone
    mismatched: list[str] = field(default_factory=list)  # SOP Instance UIDs whose file changed
    orphans: list[str] = field(default_factory=list)  # cache-relative files no row points at
    partial: list[str] = field(default_factory=list)  # unfinished writes in .incoming
    repaired: list[str] = field(default_factory=list)  # what repair did, one line each

    @property
    def consistent(self) -> bool:
        """No indexed row points at a missing, partial or changed file."""
        return not (self.missing or self.mismatched)

    @property
    def tidy(self) -> bool:
        """Consistent, and no leftovers of interrupted writes (orphans, unfinished files)."""
        return self.consistent and not (self.orphans or self.partial)

    def as_dict(self) -> dict[str, Any]:
        return {
            "consistent": self.consistent,
            "tidy": self.tidy,
            "checked": self.checked,
            "missing": self.missing,
            "hash_mismatch": self.mismatched,
            "orphaned": self.orphans,
            "partial_writes": self.partial,
            "repaired": self.repaired,
        }


def verify(cache: StudyCache, *, repair: bool = False, check_hashes: bool = True) -> VerifyReport:
    """Compare index and files; with ``repair``, make them agree without losing any file."""
    report = VerifyReport()
    root = cache.cache_dir
    with cache.lock:
        rows = list(cache.connection.execute("SELECT sop_instance_uid, file_path, file_size, file_hash FROM instances"))
        conflict_paths = {r[0] for r in cache.connection.execute("SELECT file_path FROM conflicts")}
    indexed: set[str] = set()
    for r in rows:
        report.checked += 1
        rel = r["file_path"]
        indexed.add(rel)
        try:
            path = resolve_inside(root, rel)
            st = path.stat()
        except (OSError, ValueError):
            report.missing.append(r["sop_instance_uid"])
            continue
        if st.st_size != r["file_size"]:
            report.mismatched.append(r["sop_instance_uid"])
        elif check_hashes:
            with open(path, "rb") as f:
                if content_hash(f.read()) != r["file_hash"]:
                    report.mismatched.append(r["sop_instance_uid"])
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        top = rel_dir.split(os.sep)[0]
        if top in (LOST,):
            dirnames[:] = []
            continue
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if top == INCOMING:
                if not writer_alive(name):
                    report.partial.append(rel)
            elif top == CONFLICTS:
                if rel not in conflict_paths:
                    report.orphans.append(rel)
            elif rel not in indexed:
                report.orphans.append(rel)
    if repair and not report.tidy:
        _repair(cache, report)
    return report


def _move_to_lost(root: Path, rel: str) -> str:
    src = resolve_inside(root, rel)
    dst = root / LOST / rel.replace("/", "_")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dst))
    return f"{LOST}/{dst.name}"


def _repair(cache: StudyCache, report: VerifyReport) -> None:
    # Headers are read (pydicom) only when there is something to repair: opening the cache stays light.
    from workstation.dicom.header import NotDicom, UnusableInstance, parse_header

    root = cache.cache_dir
    con = cache.connection
    # Rows whose file is gone or changed: drop the row (a changed file is kept in .lost).
    with cache.lock, transaction(con):
        studies: set[int] = set()
        for uid in report.missing + report.mismatched:
            row = con.execute(
                """SELECT i.pk, i.file_path, se.pk AS series_pk, se.study_pk FROM instances i
                   JOIN series se ON i.series_pk=se.pk WHERE i.sop_instance_uid=?""",
                (uid,),
            ).fetchone()
            if row is None:
                continue
            con.execute("DELETE FROM instances WHERE pk=?", (row["pk"],))
            con.execute(
                "UPDATE series SET num_instances=(SELECT count(*) FROM instances WHERE series_pk=?) WHERE pk=?",
                (row["series_pk"], row["series_pk"]),
            )
            studies.add(row["study_pk"])
            if uid in report.mismatched:
                try:
                    moved = _move_to_lost(root, row["file_path"])
                    report.repaired.append(f"changed file of {uid} moved to {moved}; its row dropped")
                except OSError:
                    report.repaired.append(f"row of changed file {uid} dropped")
            else:
                report.repaired.append(f"row of missing file {uid} dropped")
        _drop_empty(con, studies)
    # Unfinished writes: never indexed, never complete.
    for rel in report.partial:
        try:
            resolve_inside(root, rel).unlink()
            report.repaired.append(f"unfinished write {rel} removed")
        except OSError:
            pass
    # Orphans: complete files that a crash left unindexed; index them, or keep them in .lost.
    for rel in report.orphans:
        path = resolve_inside(root, rel)
        try:
            data = path.read_bytes()
            _ds, rec = parse_header(data)
        except (OSError, NotDicom, UnusableInstance) as exc:
            moved = _move_to_lost(root, rel)
            report.repaired.append(f"orphan {rel} is not usable ({exc}); moved to {moved}")
            continue
        staged = stage_bytes(root, data)
        res = cache.commit([PendingInstance(staged, rec, source="cache repair")])[0]
        if res.relpath != rel and path.exists():
            # Indexed elsewhere (a duplicate or a file in the wrong folder): keep this copy aside.
            moved = _move_to_lost(root, rel)
            report.repaired.append(f"orphan {rel} {res.outcome.value}; this copy moved to {moved}")
        else:
            report.repaired.append(f"orphan {rel} indexed")


def _drop_empty(con: sqlite3.Connection, study_pks: set[int]) -> None:
    con.execute("DELETE FROM series WHERE num_instances=0 AND pk NOT IN (SELECT DISTINCT series_pk FROM instances)")
    for pk in study_pks:
        refresh_study_summary(con, pk)
    con.execute("DELETE FROM studies WHERE pk NOT IN (SELECT DISTINCT study_pk FROM series)")


# Eviction ---------------------------------------------------------------------------

@dataclass
class PruneReport:
    before_bytes: int
    after_bytes: int
    evicted: list[str] = field(default_factory=list)
    kept_pinned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "before_bytes": self.before_bytes,
            "after_bytes": self.after_bytes,
            "evicted_studies": self.evicted,
            "kept_protected": self.kept_pinned,
        }


def hold(cache: StudyCache, study_uid: str, holder: str) -> None:
    """Protect a study from eviction while ``holder`` (a viewer, a draft, the outbox) needs it."""
    from workstation.store.writer import now_iso

    with cache.lock, cache.instances_unchanged(), transaction(cache.connection):
        cache.connection.execute(
            "INSERT OR REPLACE INTO study_holds (study_uid, holder, since) VALUES (?,?,?)",
            (study_uid, holder, now_iso()),
        )


def release(cache: StudyCache, study_uid: str, holder: str) -> None:
    with cache.lock, cache.instances_unchanged(), transaction(cache.connection):
        cache.connection.execute("DELETE FROM study_holds WHERE study_uid=? AND holder=?", (study_uid, holder))


def prune(cache: StudyCache, max_bytes: int) -> PruneReport:
    """Evict least-recently-opened studies until the cache holds at most ``max_bytes``.

    Pinned and held studies are never evicted.  Rows go first (committed),
    files after: a crash in between leaves orphans, never rows without files.
    """
    con = cache.connection
    with cache.lock:
        studies = list(
            con.execute(
                """SELECT s.pk, s.study_uid, s.pinned,
                          EXISTS(SELECT 1 FROM study_holds h WHERE h.study_uid=s.study_uid) AS held,
                          coalesce(s.last_opened, s.created) AS used,
                          coalesce((SELECT sum(i.file_size) FROM instances i JOIN series se ON i.series_pk=se.pk
                                    WHERE se.study_pk=s.pk),0) AS size
                   FROM studies s ORDER BY used ASC"""
            )
        )
    total = sum(s["size"] for s in studies)
    report = PruneReport(before_bytes=total, after_bytes=total)
    for s in studies:
        if report.after_bytes <= max_bytes:
            break
        if s["pinned"] or s["held"]:
            report.kept_pinned += 1
            continue
        with cache.lock, transaction(con):
            paths = [
                r[0]
                for r in con.execute(
                    "SELECT i.file_path FROM instances i JOIN series se ON i.series_pk=se.pk WHERE se.study_pk=?",
                    (s["pk"],),
                )
            ]
            con.execute("DELETE FROM studies WHERE pk=?", (s["pk"],))
            con.execute("DELETE FROM patients WHERE pk NOT IN (SELECT patient_pk FROM studies)")
        for rel in paths:
            with contextlib.suppress(OSError, ValueError):
                resolve_inside(cache.cache_dir, rel).unlink()
        _remove_empty_dirs(cache.cache_dir / s["study_uid"])
        report.evicted.append(s["study_uid"])
        report.after_bytes -= s["size"]
        log.info("evicted study %s (%d bytes)", s["study_uid"], s["size"])
    return report


def remove_studies(cache: StudyCache, study_uids: list[str]) -> tuple[list[str], list[str]]:
    """Remove these studies from the cache (rows first, then files), pinned ones too; studies held open
    (a viewer, a draft, the outbox) stay.  Returns (removed, kept because held)."""
    con = cache.connection
    removed, held = [], []
    for uid in study_uids:
        with cache.lock, transaction(con):
            if con.execute("SELECT 1 FROM study_holds WHERE study_uid=?", (uid,)).fetchone():
                held.append(uid)
                continue
            paths = [r[0] for r in con.execute(
                "SELECT i.file_path FROM instances i JOIN series se ON i.series_pk=se.pk "
                "JOIN studies s ON se.study_pk=s.pk WHERE s.study_uid=?", (uid,))]
            con.execute("DELETE FROM studies WHERE study_uid=?", (uid,))
            con.execute("DELETE FROM patients WHERE pk NOT IN (SELECT patient_pk FROM studies)")
        for rel in paths:
            with contextlib.suppress(OSError, ValueError):
                resolve_inside(cache.cache_dir, rel).unlink()
        _remove_empty_dirs(cache.cache_dir / uid)
        removed.append(uid)
        log.info("removed study %s on request", uid)
    return removed, held


def _remove_empty_dirs(path: Path) -> None:
    if not path.is_dir():
        return
    for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda t: -len(t[0])):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def recover_unfinished(cache: StudyCache) -> list[str]:
    """Tidy what processes that died mid-write left in the incoming folder; run at every start.

    * An unfinished write (``*.part`` of a writer no longer running) was never
      indexed, so never answered Success except as a C-MOVE result, which the
      retrieve checks in the cache anyway: removed.
    * A rename journal (``*.journal``) lists files a commit had moved into
      place when its process died: those the index does not know are indexed
      now (they are complete: staged files are whole before they are renamed),
      or kept in ``.lost`` when they cannot be.

    Returns
    -------
    list of str
        One line per thing done (also logged), empty when there was nothing.
    """
    root = cache.cache_dir
    incoming = root / INCOMING
    done: list[str] = []
    try:
        entries = sorted(os.scandir(incoming), key=lambda e: e.name)
    except OSError:
        return done
    for entry in entries:
        if writer_alive(entry.name):
            continue
        path = Path(entry.path)
        if entry.name.endswith(".journal"):
            try:
                rels = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
            except OSError:
                rels = []
            with cache.lock:
                known = {r[0] for r in cache.connection.execute("SELECT file_path FROM instances")} if rels else set()
                known |= {r[0] for r in cache.connection.execute("SELECT file_path FROM conflicts")} if rels else set()
            for rel in rels:
                try:
                    exists = resolve_inside(root, rel).is_file()
                except ValueError:
                    continue
                if exists and rel not in known:
                    done.append(_index_orphan(cache, rel))
        else:
            done.append(f"unfinished write {INCOMING}/{entry.name} removed")
        path.unlink(missing_ok=True)
    for line in done:
        log.warning("cache start-up: %s", line)
    return done


def _index_orphan(cache: StudyCache, rel: str) -> str:
    """Index a complete file no row points at, or move it to ``.lost``; returns what was done."""
    from workstation.dicom.header import NotDicom, UnusableInstance, parse_header

    root = cache.cache_dir
    path = resolve_inside(root, rel)
    try:
        data = path.read_bytes()
        _ds, rec = parse_header(data)
        staged = stage_bytes(root, data)
        res = cache.commit([PendingInstance(staged, rec, source="cache recovery")])[0]
    except (OSError, NotDicom, UnusableInstance) as exc:
        try:
            moved = _move_to_lost(root, rel)
        except OSError:
            return f"file {rel} left by an interrupted commit could not be indexed ({type(exc).__name__})"
        return f"file {rel} left by an interrupted commit is not usable; moved to {moved}"
    if res.relpath != rel and path.exists():
        moved = _move_to_lost(root, rel)
        return f"file {rel} left by an interrupted commit was {res.outcome.value}; this copy moved to {moved}"
    return f"file {rel} left by an interrupted commit indexed"
