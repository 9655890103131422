"""Where protocols live: the built-ins in ``resources/hanging_protocols`` and the user's own.

The user's protocols are files in ``<home>/hanging_protocols`` (JSON, or YAML
with ``.yaml``/``.yml``).  A user protocol with the id of a built-in one
replaces it.  A file that cannot be read or breaks the schema is skipped and
reported (:attr:`ProtocolLibrary.errors`), never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from workstation.hanging.protocol import Protocol, ProtocolError, parse_protocol
from workstation.home import Home

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "resources" / "hanging_protocols"
SUFFIXES = (".json", ".yaml", ".yml")
USER_DIR_NAME = "hanging_protocols"


def user_dir(home: Home) -> Path:
    """``<home>/hanging_protocols``."""
    return home.config_dir / USER_DIR_NAME


def read_file(path: str | os.PathLike[str]) -> Any:
    """The content of a JSON or YAML protocol file.

    Raises
    ------
    ProtocolError
        The file cannot be read or parsed (the field is empty).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(str(path), "", f"cannot read the file: {exc}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "YAML" if path.suffix.lower() in (".yaml", ".yml") else "JSON"
        raise ProtocolError(str(path), "", f"not valid {kind}: {exc}".replace("\n", " ")) from None


def load_file(path: str | os.PathLike[str], origin: str = "user") -> Protocol:
    """Read and validate one protocol file.

    Raises
    ------
    ProtocolError
        Naming the file and the field.
    """
    return parse_protocol(read_file(path), str(path)).with_origin(origin, str(path))


# Protocols parsed before, by file and content: the library is read at every hanging (a protocol saved
# in the editor counts at once) but its files seldom change, and reading them costs little next to parsing.
_parsed: dict[str, tuple[str, bytes, Protocol]] = {}
_parsed_lock = threading.Lock()


def _load_file_once(path: Path, origin: str) -> Protocol:
    """:func:`load_file`, parsed again only when the file's bytes changed (errors are never kept)."""
    try:
        content = path.read_bytes()
    except OSError:
        return load_file(path, origin)  # raises ProtocolError naming the file
    with _parsed_lock:
        kept = _parsed.get(str(path))
    if kept is not None and kept[0] == origin and kept[1] == content:
        return kept[2]
    protocol = load_file(path, origin)
    with _parsed_lock:
        _parsed[str(path)] = (origin, content, protocol)
    return protocol


@dataclass
class ProtocolLibrary:
    """The protocols available, and the files that were skipped."""

    protocols: list[Protocol] = field(default_factory=list)
    errors: list[ProtocolError] = field(default_factory=list)

    def get(self, protocol_id: str) -> Protocol | None:
        return next((p for p in self.protocols if p.id == protocol_id), None)

    @classmethod
    def load(cls, home: Home | None = None, builtin_dir: Path | None = None) -> ProtocolLibrary:
        """Built-ins, then the user's (replacing built-ins of the same id)."""
        lib = cls()
        by_id: dict[str, Protocol] = {}
        folders = [(builtin_dir or BUILTIN_DIR, "builtin")]
        if home is not None:
            folders.append((user_dir(home), "user"))
        for folder, origin in folders:
            seen: dict[str, Path] = {}
            for path in _protocol_files(folder):
                try:
                    p = _load_file_once(path, origin)
                except ProtocolError as exc:
                    log.warning("hanging protocol skipped: %s", exc)
                    lib.errors.append(exc)
                    continue
                if p.id in seen:
                    clash = ProtocolError(str(path), "id", f"{p.id!r} is also the id of {seen[p.id].name}; skipped")
                    log.warning("hanging protocol skipped: %s", clash)
                    lib.errors.append(clash)
                    continue
                seen[p.id] = path
                by_id[p.id] = p
        lib.protocols = sorted(by_id.values(), key=lambda p: (p.default, p.name.casefold(), p.id))
        return lib


def _protocol_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not p.name.startswith("."))


def save_user_protocol(home: Home, protocol: Protocol) -> Path:
    """Validate and write a protocol as ``<home>/hanging_protocols/<id>.json`` (atomically).

    Any other file of the user's with that id (a YAML original, say) is
    replaced by it, so one id never has two files.

    Raises
    ------
    ProtocolError
        The protocol does not survive its own validation.
    """
    data = protocol.to_dict()
    folder = user_dir(home)
    target = folder / f"{protocol.id}.json"
    parse_protocol(data, str(target))  # never write what would be skipped when read
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for other in _files_with_id(folder, protocol.id):
        if other != target:
            other.unlink(missing_ok=True)
    return target


def delete_user_protocol(home: Home, protocol_id: str) -> int:
    """Remove the user's files of a protocol; returns how many were removed."""
    files = _files_with_id(user_dir(home), protocol_id)
    for f in files:
        f.unlink(missing_ok=True)
    return len(files)


def _files_with_id(folder: Path, protocol_id: str) -> list[Path]:
    out = []
    for path in _protocol_files(folder):
        try:
            raw = read_file(path)
        except ProtocolError:
            continue
        if isinstance(raw, dict) and raw.get("id") == protocol_id:
            out.append(path)
    return out
