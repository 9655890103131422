"""Settings stored as JSON in the home's config directory, with a schema version.

Unknown keys are kept (a newer Lightbox may have written them) and a file
from an older schema is migrated when read.  Writes are atomic.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workstation import config_layers

_log = logging.getLogger(__name__)

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
    #: When a C-MOVE fails because the archive does not know us (0xA801), try C-GET.
    get_fallback: bool = True
    #: A Modality Worklist provider: queried for orders (MWL C-FIND), not for studies.
    worklist: bool = False

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name):
            raise ConfigError(f"invalid node name {self.name!r}: one word, no spaces")
        self.ae_title = validate_ae_title(self.ae_title)
        self.port = validate_port(self.port)
        self.timeout = _positive(self.timeout, "timeout")
        self.max_associations = int(_positive(self.max_associations, "max_associations"))
        self.get_fallback = _boolean(self.get_fallback, "get_fallback")
        self.worklist = _boolean(self.worklist, "worklist")
        if self.retrieve == "dicomweb" and not self.url:
            raise ConfigError(f"node {self.name!r}: retrieve method dicomweb needs the DICOMweb base URL (--url)")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"invalid DICOMweb URL {self.url!r}: it starts with http:// or https://")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError(f"node {self.name!r}: a TLS certificate needs its key, and a key its certificate")
        if self.retrieve not in VALID_RETRIEVE:
            raise ConfigError(f"invalid retrieve method {self.retrieve!r}: one of {', '.join(VALID_RETRIEVE)}")
        if self.query_model not in VALID_QUERY_MODEL:
            raise ConfigError(f"invalid query model {self.query_model!r}: one of {', '.join(VALID_QUERY_MODEL)}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Node:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _positive(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid {what} {value!r}: a positive number") from None
    if not number > 0:
        raise ConfigError(f"invalid {what} {value!r}: a positive number")
    return number


def _boolean(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"invalid {what} {value!r}: true or false")


@dataclass
class Settings:
    """Everything a user can set.  ``extra`` keeps keys this version does not know.

    Network settings of our own AE: ``ae_title``; the storage SCP's
    ``storage_port`` and ``storage_bind_address`` (all interfaces by default:
    archives on other hosts send C-MOVE results there); ``accept_known_nodes_only``
    (on by default: the SCP accepts associations only from configured nodes, by AE
    title and host address; a site turns it off to accept any sender);
    ``storage_tls_cert``/``storage_tls_key`` (the SCP speaks DICOM TLS) and
    ``storage_tls_ca`` (it then also requires client certificates signed by it).
    """

    ae_title: str = "LIGHTBOX"
    storage_port: int = 11112
    demo_archive_port: int = 11114
    nodes: list[Node] = field(default_factory=list)
    storage_bind_address: str = "0.0.0.0"
    accept_known_nodes_only: bool = True
    storage_tls_cert: str = ""
    storage_tls_key: str = ""
    storage_tls_ca: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: Problems met while reading the layers (a broken user file ...); never saved.
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)
    #: The user's file could not be used; :func:`save` keeps a copy of it aside first.
    user_file_broken: bool = field(default=False, compare=False, repr=False)

    #: Settings ``lightbox config set`` changes, with their parsers.
    SETTABLE = ("ae_title", "storage_port", "storage_bind_address", "accept_known_nodes_only",
                "storage_tls_cert", "storage_tls_key", "storage_tls_ca", "demo_archive_port")

    def set(self, key: str, value: str) -> None:
        """Set one of :attr:`SETTABLE` from its text form, checked."""
        if key not in self.SETTABLE:
            raise ConfigError(f"unknown setting {key!r}: one of {', '.join(self.SETTABLE)}")
        if key == "ae_title":
            self.ae_title = validate_ae_title(value)
        elif key in ("storage_port", "demo_archive_port"):
            setattr(self, key, validate_port(value))
        elif key == "accept_known_nodes_only":
            self.accept_known_nodes_only = _boolean(value, key)
        elif key == "storage_bind_address":
            if not value.strip():
                raise ConfigError("invalid storage_bind_address '': an IP address such as 0.0.0.0 or 127.0.0.1")
            self.storage_bind_address = value.strip()
        else:
            setattr(self, key, value.strip())

    @property
    def known_ae_titles(self) -> builtins.set[str]:  # ``set`` is also a method of this class
        """The AE titles of the configured nodes."""
        return {n.ae_title for n in self.nodes}

    # Nodes ---------------------------------------------------------------------
    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name.lower() == name.lower():
                return n
        raise ConfigError(f"no node named {name!r} (see 'lightbox nodes list')")

    def upsert_node(self, node: Node) -> None:
        self.nodes = [n for n in self.nodes if n.name.lower() != node.name.lower()] + [node]

    def remove_node(self, name: str) -> Node:
        """Remove and return the node called ``name`` (ConfigError when there is none)."""
        node = self.node(name)
        self.nodes = [n for n in self.nodes if n is not node]
        return node

    # Serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dict(self.extra)
        d.update(
            schema_version=SCHEMA_VERSION,
            ae_title=self.ae_title,
            storage_port=self.storage_port,
            demo_archive_port=self.demo_archive_port,
            nodes=[asdict(n) for n in self.nodes],
            storage_bind_address=self.storage_bind_address,
            accept_known_nodes_only=self.accept_known_nodes_only,
            storage_tls_cert=self.storage_tls_cert,
            storage_tls_key=self.storage_tls_key,
            storage_tls_ca=self.storage_tls_ca,
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Settings:
        d = migrate(dict(d))
        known = {"schema_version", "ae_title", "storage_port", "demo_archive_port", "nodes",
                 "storage_bind_address", "accept_known_nodes_only", "storage_tls_cert", "storage_tls_key",
                 "storage_tls_ca"}
        return cls(
            ae_title=validate_ae_title(d.get("ae_title", "LIGHTBOX")),
            storage_port=validate_port(d.get("storage_port", 11112)),
            demo_archive_port=validate_port(d.get("demo_archive_port", 11114)),
            nodes=[Node.from_dict(n) for n in d.get("nodes", [])],
            storage_bind_address=str(d.get("storage_bind_address", "0.0.0.0") or "0.0.0.0"),
            accept_known_nodes_only=_boolean(d.get("accept_known_nodes_only", True), "accept_known_nodes_only"),
            storage_tls_cert=str(d.get("storage_tls_cert", "") or ""),
            storage_tls_key=str(d.get("storage_tls_key", "") or ""),
            storage_tls_ca=str(d.get("storage_tls_ca", "") or ""),
            extra={k: v for k, v in d.items() if k not in known},
        )


def migrate(d: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings dict of any earlier schema version to the current one."""
    version = int(d.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        # Written by a newer Lightbox: read what we understand, keep the rest.
        return d
    # Version 0 (unversioned) named the AE title "aet".
    if version < 1 and "aet" in d and "ae_title" not in d:
        d["ae_title"] = d.pop("aet")
    d["schema_version"] = SCHEMA_VERSION
    return d


def load(path: Path, system_path: Path | None = None) -> Settings:
    """Read the user's settings at ``path`` laid over the system-wide defaults.

    Parameters
    ----------
    path : pathlib.Path
        The user's ``config.json``; defaults when it does not exist.
    system_path : pathlib.Path, optional
        The system-wide defaults (default: :func:`config_layers.system_config_file`).

    Returns
    -------
    Settings
        With a system file present, a user file that cannot be read or holds an
        invalid value is ignored: the result is the system's settings, with the
        reason in ``warnings`` (also logged).

    Raises
    ------
    ConfigError
        Without a system file, when the user's file is broken (as before there
        were system defaults).
    """
    system, notes = config_layers.read_system_layer(system_path)
    user: dict[str, Any] = {}
    try:
        if path.exists():
            user = config_layers.read_json_object(path)
        if system is None:
            settings = Settings.from_dict(user)
        else:
            settings = Settings.from_dict(config_layers.merge_layers(migrate(dict(system)), migrate(dict(user))))
    except (ValueError, TypeError) as exc:  # ConfigError is a ValueError
        if system is None:
            raise exc if isinstance(exc, ConfigError) else ConfigError(str(exc)) from exc
        notes.append(f"your settings file {path} is not usable ({exc}); the system-wide settings apply "
                     f"until it is fixed")
        settings = _system_only(system, notes)
        settings.user_file_broken = path.exists()
    settings.warnings = notes + settings.warnings
    for note in notes:
        _log.warning("%s", note)
    return settings


def _system_only(system: dict[str, Any], notes: list[str]) -> Settings:
    try:
        return Settings.from_dict({k: v for k, v in system.items() if k not in config_layers.LAYER_KEYS})
    except (ValueError, TypeError) as exc:
        notes.append(f"system-wide settings hold an invalid value ({exc}); built-in defaults apply")
        return Settings()


def save(settings: Settings, path: Path, system_path: Path | None = None) -> None:
    """Write atomically: a crash leaves the old or the new file, never half of one.

    With a system-wide settings file, only what differs from it is written, so
    later changes to the site's defaults reach the user; a broken user file
    that :func:`load` ignored is first kept aside as ``config.json.broken``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = settings.to_dict()
    system, _notes = config_layers.read_system_layer(system_path)
    if system is not None:
        base = _system_only(dict(system), []).to_dict()
        data = config_layers.user_differences(base, data)
    if settings.user_file_broken and path.exists():
        os.replace(path, path.with_name(path.name + ".broken"))
        settings.user_file_broken = False
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SettingsSource:
    """The one place a running program reads its settings from, and is told when they change.

    Every part of the window (report panel, outbox sender, storage SCP, the
    settings dialog) asks :meth:`current` instead of keeping the settings it
    read at start; :meth:`save` writes the file and calls each subscriber, so a
    change takes effect at once.  A change made by another process (``lightbox
    cert import`` in a terminal) is picked up too: :meth:`current` reads the
    file again when its modification time or size changed.

    Thread-safe: the outbox sender reads it from its worker thread.  Subscribers
    are called on the thread that saved (the GUI thread for the dialog).

    Parameters
    ----------
    path : pathlib.Path
        The user's ``config.json``.
    system_path : pathlib.Path, optional
        The system-wide defaults (see :func:`load`).
    """

    def __init__(self, path: Path, system_path: Path | None = None) -> None:
        import threading

        self.path = Path(path)
        self.system_path = system_path
        self._lock = threading.RLock()
        self._settings: Settings | None = None
        self._stamp: tuple[int, int] | None = None
        self._subscribers: list[Callable[[], object]] = []
        #: Why the file could not be read the last time (the previous settings were kept), or "".
        self.error = ""

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Settings:
        """The settings as saved now (a copy callers may change and :meth:`save`)."""
        import copy

        with self._lock:
            stamp = self._file_stamp()
            if self._settings is None or stamp != self._stamp:
                try:
                    self._settings = load(self.path, self.system_path)
                    self.error = ""
                except ConfigError as exc:
                    self.error = str(exc)
                    _log.warning("settings unreadable, the previous ones stay in use: %s", exc)
                    if self._settings is None:
                        self._settings = Settings()
                self._stamp = stamp
            return copy.deepcopy(self._settings)

    def save(self, settings: Settings) -> None:
        """Write ``settings`` and tell every subscriber (who then reads :meth:`current`)."""
        with self._lock:
            save(settings, self.path, self.system_path)
            self._settings = None  # read back what was written (system layer applied)
        self.notify()

    def update(self, change: Callable[[Settings], object]) -> Settings:
        """Apply ``change(settings)`` to the current settings, save and notify; returns the new settings."""
        with self._lock:
            settings = self.current()
            change(settings)
            self.save(settings)
            return self.current()

    def subscribe(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback()`` after every save; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
        return unsubscribe

    def poll(self) -> bool:
        """Tell the subscribers when the file changed since it was last read (another process saved it).

        Returns True when it had changed.  The window calls this every few seconds,
        so ``lightbox cert import`` in a terminal reaches the open window too.
        """
        with self._lock:
            changed = self._settings is not None and self._file_stamp() != self._stamp
        if changed:
            self.current()
            self.notify()
        return changed

    def notify(self) -> None:
        for callback in list(self._subscribers):
            try:
                callback()
            except Exception:  # noqa: BLE001 - one broken subscriber must not keep the others uninformed
                _log.exception("a settings subscriber failed")


def as_settings(settings: Settings | SettingsSource) -> Settings:
    """``settings`` itself, or the current settings of a :class:`SettingsSource`."""
    return settings.current() if isinstance(settings, SettingsSource) else settings
