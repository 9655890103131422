"""Importing files into the cache.

Parsing (headers only), copying and hashing run on a few threads in chunks
(the copy and the reads leave the GIL to the others); the calling thread
commits what they staged in groups, with one filesystem sync and one index
transaction per group, while the threads prepare the next.  A bad file is
skipped with its reason and never reaches the cache; nothing a file contains
can abort the run.
"""

from __future__ import annotations

import logging
import os
import zipfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from workstation.dicom.header import (
    HEADER_CHUNK,
    TAIL_BYTES,
    InstanceRecord,
    NotDicom,
    UnusableInstance,
    parse_header_file,
    pixel_data_truncation,
    record_from_scan,
)
from workstation.log_privacy import mask_values
from workstation.dicom.frame_count import frames_problem
from workstation.dicom.limits import describe_bytes, limits
from workstation.jobs.core import CancelToken, ProgressCallback, ProgressThrottle
from workstation.store.cache import StudyCache
from workstation.store.layout import BATCH_SYNC, TooLarge, stage_file, stage_stream, sync_filesystem
from workstation.store.sources import Source, Unreadable, iter_sources
from workstation.store.writer import CacheWriteError, Outcome, PendingInstance, cannot_write_message

log = logging.getLogger(__name__)

CHUNK = 32  # files per worker task
GROUP = 128  # staged files per filesystem sync and index transaction

_T = TypeVar("_T")


@dataclass
class Skipped:
    label: str
    reason: str


@dataclass
class ImportSummary:
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    failed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    bytes_imported: int = 0
    study_uids: set[str] = field(default_factory=set)
    conflict_uids: list[str] = field(default_factory=list)
    failures: list[Skipped] = field(default_factory=list)
    cancelled: bool = False

    @property
    def total(self) -> int:
        return self.imported + self.duplicates + self.conflicts + self.failed + len(self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "failed": self.failed,
            "skipped": len(self.skipped),
            "studies": sorted(self.study_uids),
            "skipped_files": [{"file": s.label, "reason": s.reason} for s in self.skipped],
            "failed_files": [{"file": s.label, "reason": s.reason} for s in self.failures],
            "conflict_sop_instance_uids": self.conflict_uids,
            "bytes_imported": self.bytes_imported,
            "cancelled": self.cancelled,
        }


# One item of a worker's answer: ("ok", label, PendingInstance) or ("skip", label, reason)
_Result = tuple[str, str, PendingInstance | str]


def _prepare_chunk(sources: list[Source], cache_dir: str) -> list[_Result]:
    """Read, parse and stage each source (no index access here: any thread)."""
    out: list[_Result] = []
    zips: dict[str, zipfile.ZipFile] = {}
    cache = Path(cache_dir)
    try:
        for src in sources:
            out.append(_prepare_one(src, cache, zips))
    except BaseException:
        for _kind, _label, payload in out:  # staged for nothing: the caller tries the chunk again
            if isinstance(payload, PendingInstance):
                payload.staged.tmp_path.unlink(missing_ok=True)
        raise
    finally:
        for zf in zips.values():
            zf.close()
    return out


def _prepare_one(src: Source, cache: Path, zips: dict[str, zipfile.ZipFile]) -> _Result:
    if not src.member:
        return _prepare_file(src, cache)
    # A zip member is streamed into the incoming folder first (a 3 MB zip may hold a 3 GiB
    # member: never read whole into memory), then read like a plain file.
    ceiling = limits().max_received_object_bytes
    try:
        zf = zips.get(src.path)
        if zf is None:
            zf = zips[src.path] = zipfile.ZipFile(src.path)
        with zf.open(src.member) as stream:
            staged = stage_stream(cache, stream, limit=ceiling, sync=not BATCH_SYNC)
    except TooLarge:
        return ("skip", src.label, f"larger than {describe_bytes(ceiling)} (max_received_object_mib); not imported")
    except OSError as exc:
        if getattr(exc, "errno", None) is not None:
            return ("fail", src.label, cannot_write_message(exc, cache))
        return ("skip", src.label, f"unreadable ({mask_values(str(exc))})")
    except (zipfile.BadZipFile, KeyError, RuntimeError, ValueError, EOFError, zlib.error,
            NotImplementedError) as exc:
        return ("skip", src.label, f"unreadable zip member ({type(exc).__name__})")
    if staged.size == 0:
        staged.tmp_path.unlink(missing_ok=True)
        return ("skip", src.label, "empty file")
    try:
        rec, _size = _scan_file(staged.tmp_path)
    except (NotDicom, UnusableInstance) as exc:
        staged.tmp_path.unlink(missing_ok=True)
        return ("skip", src.label, str(exc))
    except Exception as exc:  # pydicom can raise nearly anything on hostile input
        staged.tmp_path.unlink(missing_ok=True)
        return ("skip", src.label, f"unreadable DICOM ({type(exc).__name__}: {mask_values(str(exc))})"[:200])
    return ("ok", src.label, PendingInstance(staged, rec, source=src.label))


def _prepare_file(src: Source, cache: Path) -> _Result:
    """A plain file: parse its header only, then copy it in the kernel."""
    path = Path(src.path)
    try:
        rec, size = _scan_file(path)
    except OSError as exc:
        return ("skip", src.label, f"unreadable ({exc.strerror or exc})")
    except (NotDicom, UnusableInstance) as exc:
        reason = str(exc)
        if reason.startswith("not DICOM") and _is_empty(path):
            reason = "empty file"
        return ("skip", src.label, reason)
    except Exception as exc:  # pydicom can raise nearly anything on hostile input
        return ("skip", src.label, f"unreadable DICOM ({type(exc).__name__}: {mask_values(str(exc))})"[:200])
    try:
        staged = stage_file(cache, path, sync=not BATCH_SYNC)
    except OSError as exc:
        return ("fail", src.label, cannot_write_message(exc, cache))
    if staged.size != size:
        staged.tmp_path.unlink(missing_ok=True)
        return ("skip", src.label, "the file changed while it was being imported")
    return ("ok", src.label, PendingInstance(staged, rec, source=src.label))


def _scan_file(path: Path) -> tuple[InstanceRecord, int]:
    """The record from the lean header scan of the file's first 64 KiB, else from pydicom.

    Raises UnusableInstance for an object whose pixel data is not all there.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(HEADER_CHUNK)
    rec = record_from_scan(head, size)
    if rec is None:
        _ds, rec, size = parse_header_file(path)
    _refuse_truncated(path, rec, head, size)
    return rec, size


def _refuse_truncated(path: Path, rec: InstanceRecord, head: bytes, size: int) -> None:
    pixel_pos = rec.extra.get("pixel_pos")
    if pixel_pos is None:
        return
    with open(path, "rb") as f:
        def read_at(offset: int, length: int) -> bytes:
            f.seek(offset)
            return f.read(length)

        frames = frames_problem(read_at, pixel_pos, rec.transfer_syntax_uid, size, frames=rec.number_of_frames,
                                rows=rec.rows, columns=rec.columns, bits_allocated=rec.bits_allocated)
        if frames:
            raise UnusableInstance(f"truncated: {frames}")
        if pixel_pos + 12 > len(head):
            f.seek(pixel_pos)
            head, size, pixel_pos = f.read(12), size - pixel_pos, 0
        f.seek(max(0, os.fstat(f.fileno()).st_size - TAIL_BYTES))
        tail = f.read(TAIL_BYTES)
    reason = pixel_data_truncation(head, pixel_pos, rec.transfer_syntax_uid, size, tail)
    if reason:
        raise UnusableInstance(reason)


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def import_paths(
    cache: StudyCache,
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
) -> ImportSummary:
    """Import files, folders, DICOMDIRs and zip archives into ``cache``.

    Parameters
    ----------
    cache : StudyCache
    paths : iterable of path
        Files, folders (walked), DICOMDIRs and zip archives.
    progress : callable, optional
        Told how many sources are done (throttled).
    cancel : CancelToken, optional
        Checked between chunks; what is already being prepared is still committed.
    workers : int, optional
        Threads that parse and copy (default: the cores, at most 4); 1 works in
        the calling thread only.

    Returns
    -------
    ImportSummary
    """
    summary = ImportSummary()
    sources: list[Source] = []
    index = cache.index_file
    own = (cache.cache_dir, index, index.with_name(index.name + "-wal"), index.with_name(index.name + "-shm"))
    for item in iter_sources(list(paths), exclude=own):
        if isinstance(item, Unreadable):
            summary.skipped.append(Skipped(item.label, item.reason))
        else:
            sources.append(item)
    throttle = ProgressThrottle(progress, len(sources))
    chunks = [sources[i : i + CHUNK] for i in range(0, len(sources), CHUNK)]
    cache_dir = str(cache.cache_dir)
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if len(chunks) <= 1 or n_workers <= 1:
        group: list[_Result] = []
        for chunk in chunks:
            if cancel is not None and cancel.cancelled:
                summary.cancelled = True
                break
            group += _prepare_chunk(chunk, cache_dir)
            throttle.advance(len(chunk))
            if _staged(group) >= GROUP:
                _commit_chunk(cache, group, summary)
                group = []
        _commit_chunk(cache, group, summary)
    else:
        _run_threads(cache, chunks, cache_dir, n_workers, summary, throttle, cancel)
    throttle.finish()
    log.info(
        "import: %d imported, %d duplicates, %d conflicts, %d failed, %d skipped",
        summary.imported, summary.duplicates, summary.conflicts, summary.failed, len(summary.skipped),
    )
    return summary


def _staged(results: list[_Result]) -> int:
    return sum(1 for _kind, _label, payload in results if isinstance(payload, PendingInstance))


def _prepare_chunk_safely(sources: list[Source], cache_dir: str) -> list[_Result]:
    """:func:`_prepare_chunk`, but an unexpected error skips the files it hit instead of ending the import."""
    try:
        return _prepare_chunk(sources, cache_dir)
    except Exception:  # noqa: BLE001 - a bug or a hostile file must not abort the whole import
        log.exception("import: preparing %d files failed; trying them one by one", len(sources))
    out: list[_Result] = []
    for src in sources:
        try:
            out += _prepare_chunk([src], cache_dir)
        except Exception as exc:  # noqa: BLE001 - as above, for this one file
            out.append(("skip", src.label, f"unreadable ({type(exc).__name__})"))
    return out


def _run_threads(
    cache: StudyCache,
    chunks: list[list[Source]],
    cache_dir: str,
    n_workers: int,
    summary: ImportSummary,
    throttle: ProgressThrottle,
    cancel: CancelToken | None,
) -> None:
    """Parse, copy and hash chunks on ``n_workers`` threads; sync and index them here, a group at a time.

    Threads, not processes: the copy (``copy_file_range``), the reads and the
    sync run outside the GIL, and the header scan is a fraction of a
    millisecond a file, while starting a worker process (it imports pydicom)
    costs half a second of a core: more than a whole 500-file import.  While
    this thread syncs and indexes one group, the workers prepare the next.
    """
    queue = iter(chunks)
    group: list[_Result] = []
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="import") as pool:
        # A few chunks in flight per worker: enough to keep them busy during a group's sync.
        pending: deque[tuple[Future[list[_Result]], list[Source]]] = deque(
            (pool.submit(_prepare_chunk_safely, chunk, cache_dir), chunk) for chunk in _take(queue, n_workers * 3))
        while pending:
            if cancel is not None and cancel.cancelled:
                summary.cancelled = True
                for fut, _chunk in pending:
                    if not fut.cancel():
                        group += fut.result()  # already staging its files: commit them, nothing half done
                break
            fut, chunk = pending.popleft()
            group += fut.result()
            throttle.advance(len(chunk))
            pending.extend((pool.submit(_prepare_chunk_safely, c, cache_dir), c) for c in _take(queue, 1))
            if _staged(group) >= GROUP:
                _commit_chunk(cache, group, summary)
                group = []
    _commit_chunk(cache, group, summary)


def _take(it: Iterator[_T], n: int) -> list[_T]:
    out: list[_T] = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


def _commit_chunk(cache: StudyCache, results: list[_Result], summary: ImportSummary) -> None:
    batch: list[PendingInstance] = []
    for kind, label, payload in results:
        if isinstance(payload, PendingInstance):  # kind "ok"
            batch.append(payload)
        elif kind == "fail":
            summary.failed += 1
            summary.failures.append(Skipped(label, str(payload)))
        else:
            summary.skipped.append(Skipped(label, str(payload)))
    if not batch:
        return
    # One sync makes every staged file of the group durable before any is renamed into place.
    if BATCH_SYNC:
        sync_filesystem(cache.cache_dir)
    try:
        committed = cache.commit(batch)
    except CacheWriteError as exc:
        # Nothing of the chunk is indexed and its files are gone again (disk full, index locked).
        summary.failed += len(batch)
        summary.failures.extend(Skipped(item.source, str(exc)) for item in batch)
        return
    for item, res in zip(batch, committed, strict=True):
        if res.outcome is Outcome.STORED:
            summary.imported += 1
            summary.bytes_imported += item.staged.size
            summary.study_uids.add(item.record.study_uid)
        elif res.outcome is Outcome.DUPLICATE:
            summary.duplicates += 1
            summary.study_uids.add(item.record.study_uid)
        elif res.outcome is Outcome.CONFLICT:
            summary.conflicts += 1
            summary.conflict_uids.append(res.sop_instance_uid)
        else:
            summary.failed += 1
            summary.failures.append(Skipped(item.source, res.message))
