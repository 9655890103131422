"""What an import reads: files, folders (recursive), DICOMDIR file sets and zip archives."""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator, Set


@dataclass(frozen=True)
class Source:
    """One candidate object: a file, or a member of a zip archive."""

    path: str
    member: str = ""  # zip member name, '' for a plain file

    @property
    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else self.path

    def read(self, zips: dict[str, zipfile.ZipFile] | None = None) -> bytes:
        if not self.member:
            with open(self.path, "rb") as f:
                return f.read()
        if zips is not None:
            zf = zips.get(self.path)
            if zf is None:
                zf = zips[self.path] = zipfile.ZipFile(self.path)
            return zf.read(self.member)
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member)


@dataclass(frozen=True)
class Unreadable:
    """A path that could not be enumerated (missing, permission denied, broken zip)."""

    label: str
    reason: str


def special_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file (a FIFO, a device, a socket), or None; never opens it.

    Opening a FIFO waits for a writer forever, and a device can be endless.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: skipped without reading"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file: skipped"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file: skipped without reading"
    return "not a regular file: skipped"


def _is_dicomdir(path: Path) -> bool:
    return path.name.upper() == "DICOMDIR"


def dicomdir_files(dicomdir: Path) -> Iterator[Source | Unreadable]:
    """The files a DICOMDIR references (Referenced File ID is relative to its folder)."""
    import pydicom

    try:
        ds = pydicom.dcmread(dicomdir)
        records = ds.DirectoryRecordSequence
    except Exception as exc:
        yield Unreadable(str(dicomdir), f"unreadable DICOMDIR ({type(exc).__name__})")
        return
    root = dicomdir.parent
    seen: set[str] = set()
    for rec in records:
        file_id = rec.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        if any(p in ("..", "") or "/" in p or "\\" in p for p in parts):
            yield Unreadable(str(dicomdir), "DICOMDIR references a path outside its file set")
            continue
        target = root.joinpath(*parts)
        why = special_file(target)
        if why is not None:
            yield Unreadable(str(target), why)
            continue
        if not target.exists():
            # File sets written on other systems may differ in case.
            alt = _case_insensitive(root, parts)
            if alt is None:
                yield Unreadable(str(target), "referenced by DICOMDIR but missing")
                continue
            target = alt
        key = str(target)
        if key not in seen:
            seen.add(key)
            yield Source(key)


def _case_insensitive(root: Path, parts: list[str]) -> Path | None:
    current = root
    for part in parts:
        try:
            match = next((p for p in current.iterdir() if p.name.upper() == part.upper()), None)
        except OSError:
            return None
        if match is None:
            return None
        current = match
    return current


def iter_sources(
    paths: list[str | os.PathLike[str]], exclude: tuple[Path, ...] = ()
) -> Iterator[Source | Unreadable]:
    """Expand command-line paths into the objects to import, in a stable order.

    ``exclude`` holds folders and files never read (the cache itself and its
    index, when someone imports a folder that contains the Lightbox home).
    """
    excluded = {p.resolve() for p in exclude}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield Unreadable(str(path), "no such file or folder")
        elif path.resolve() in excluded:
            continue
        elif (why := special_file(path)) is not None:
            yield Unreadable(str(path), why)
        elif path.is_dir():
            yield from _walk(path, excluded)
        elif _is_dicomdir(path):
            yield from dicomdir_files(path)
        elif zipfile.is_zipfile(path):
            yield from _zip_members(path)
        else:
            yield Source(str(path))


def _walk(folder: Path, excluded: Set[Path] = frozenset()) -> Iterator[Source | Unreadable]:
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(folder, onerror=errors.append):
        if excluded:
            dirnames[:] = [d for d in dirnames if (Path(dirpath) / d).resolve() not in excluded]
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if excluded and p.resolve() in excluded:
                continue
            if p.is_symlink() and not p.exists():
                yield Unreadable(str(p), "broken link")
            elif (why := special_file(p)) is not None:
                yield Unreadable(str(p), why)
            elif _is_dicomdir(p):
                # Its images are found by the walk itself.
                yield Unreadable(str(p), "DICOMDIR (file-set index, not an image; its files are imported)")
            elif name.lower().endswith(".zip") and zipfile.is_zipfile(p):
                yield from _zip_members(p)
            else:
                yield Source(str(p))
    for err in errors:
        yield Unreadable(str(err.filename), f"cannot read folder ({err.strerror})")


def _zip_members(path: Path) -> Iterator[Source | Unreadable]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        yield Unreadable(str(path), f"unreadable zip archive ({type(exc).__name__})")
        return
    for name in sorted(names):
        if Path(name).name.upper() == "DICOMDIR":
            yield Unreadable(f"{path}!{name}", "DICOMDIR (file-set index, not an image; its files are imported)")
        else:
            yield Source(str(path), name)
