"""Settings stored as JSON in the home's config directory, with a schema version.

Unknown keys are kept (a newer Lightbox may have written them) and a file
from an older schema is migrated when read.  Writes are atomic.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

VALID_RETRIEVE = ("move", "get", "dicomweb")
VALID_QUERY_MODEL = ("study", "patient")


class ConfigError(ValueError):
    """A setting is missing, malformed or out of range."""


def validate_ae_title(value: str) -> str:
    """Return ``value`` if it is a legal AE title (1-16 chars of the default repertoire)."""
    v = value.strip()
    if not v or len(v) > 16 or "\\" in v or any(ord(c) < 32 or ord(c) > 126 for c in v):
        raise ConfigError(f"invalid AE title {value!r}: 1 to 16 printable ASCII characters, no backslash")
    return v


def validate_port(value: int | str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid port {value!r}: a number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"invalid port {port}: a number from 1 to 65535")
    return port


@dataclass
class Node:
    """A remote DICOM node (archive or modality)."""

    name: str
    ae_title: str
    host: str
    port: int
    query_model: str = "study"
    retrieve: str = "move"
    url: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    timeout: float = 30.0
    max_associations: int = 2
    charset: str = "ISO_IR 192"

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name):
            raise ConfigError(f"invalid node name {self.name!r}: one word, no spaces")
        self.ae_title = validate_ae_title(self.ae_title)
        self.port = validate_port(self.port)
        if self.retrieve not in VALID_RETRIEVE:
            raise ConfigError(f"invalid retrieve method {self.retrieve!r}: one of {', '.join(VALID_RETRIEVE)}")
        if self.query_model not in VALID_QUERY_MODEL:
            raise ConfigError(f"invalid query model {self.query_model!r}: one of {', '.join(VALID_QUERY_MODEL)}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Node":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Settings:
    """Everything a user can set.  ``extra`` keeps keys this version does not know."""

    ae_title: str = "LIGHTBOX"
    storage_port: int = 11112
    demo_archive_port: int = 11114
    nodes: list[Node] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    # Nodes ---------------------------------------------------------------------
    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name.lower() == name.lower():
                return n
        raise ConfigError(f"no node named {name!r} (see 'lightbox nodes list')")

    def upsert_node(self, node: Node) -> None:
        self.nodes = [n for n in self.nodes if n.name.lower() != node.name.lower()] + [node]

    # Serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dict(self.extra)
        d.update(
            schema_version=SCHEMA_VERSION,
            ae_title=self.ae_title,
            storage_port=self.storage_port,
            demo_archive_port=self.demo_archive_port,
            nodes=[asdict(n) for n in self.nodes],
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Settings":
        d = migrate(dict(d))
        known = {"schema_version", "ae_title", "storage_port", "demo_archive_port", "nodes"}
        return cls(
            ae_title=validate_ae_title(d.get("ae_title", "LIGHTBOX")),
            storage_port=validate_port(d.get("storage_port", 11112)),
            demo_archive_port=validate_port(d.get("demo_archive_port", 11114)),
            nodes=[Node.from_dict(n) for n in d.get("nodes", [])],
            extra={k: v for k, v in d.items() if k not in known},
        )


def migrate(d: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings dict of any earlier schema version to the current one."""
    version = int(d.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        # Written by a newer Lightbox: read what we understand, keep the rest.
        return d
    if version < 1:
        # Version 0 (unversioned) named the AE title "aet".
        if "aet" in d and "ae_title" not in d:
            d["ae_title"] = d.pop("aet")
    d["schema_version"] = SCHEMA_VERSION
    return d


def load(path: Path) -> Settings:
    """Read the settings at ``path``; defaults when the file does not exist."""
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read settings {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"cannot read settings {path}: not a JSON object")
    return Settings.from_dict(raw)


def save(settings: Settings, path: Path) -> None:
    """Write atomically: a crash leaves the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(settings.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
