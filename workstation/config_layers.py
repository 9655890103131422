"""The system-wide default settings layer under each user's ``config.json``.

Hospital IT (or the installer) drops one JSON file with the site's settings
(nodes, AE title, storage port, report destination, trust store) where every
user's Lightbox reads it:

- ``LIGHTBOX_SYSTEM_CONFIG`` when set (a file path);
- else the platform's site config folder: ``/etc/xdg/Lightbox/config.json`` on
  Linux, ``C:\\ProgramData\\Lightbox\\config.json`` on Windows,
  ``/Library/Application Support/Lightbox/config.json`` on macOS.

The user's file overrides it key by key: top-level settings replace the
system's, nodes are merged by name, and dictionaries (``reporting``,
``hanging`` ...) are merged one level deep.  The system file may name
``"locked"`` keys that the user cannot override.  A user file that cannot be
read or that holds an invalid value is ignored with a warning, so the site's
defaults always apply.  Only what differs from the system layer is written
back into the user's file.

Plain dictionaries in, plain dictionaries out: :mod:`workstation.config`
turns them into :class:`~workstation.config.Settings`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs

SYSTEM_CONFIG_ENV = "LIGHTBOX_SYSTEM_CONFIG"
APP_NAME = "Lightbox"
#: Keys of the system file that are about the layer itself, never settings.
LAYER_KEYS = ("locked",)


def system_config_file() -> Path:
    """The system-wide default settings file (it need not exist).

    Returns
    -------
    pathlib.Path
        ``$LIGHTBOX_SYSTEM_CONFIG`` if set, else ``config.json`` in the
        platform's site config folder.
    """
    env = os.environ.get(SYSTEM_CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    if os.name == "nt":
        # platformdirs' site folder on Windows; spelled out so the installer agrees with it
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return Path(base) / APP_NAME / "config.json"
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False, multipath=False)) / "config.json"


def read_json_object(path: Path) -> dict[str, Any]:
    """Read a JSON object from ``path``.

    Raises
    ------
    ValueError
        The file cannot be read, is not JSON or not a JSON object (the
        message names the file and the reason).
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read settings {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"cannot read settings {path}: not a JSON object")
    return raw


def read_system_layer(path: Path | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """The system layer as a dict, or ``None`` when there is no system file.

    Parameters
    ----------
    path : pathlib.Path, optional
        Default :func:`system_config_file`.

    Returns
    -------
    (dict or None, list of str)
        The layer and warnings; a broken system file gives an empty layer and
        a warning (the built-in defaults then apply).
    """
    path = system_config_file() if path is None else path
    if not path.is_file():
        return None, []
    try:
        return read_json_object(path), []
    except ValueError as exc:
        return {}, [f"system settings ignored, built-in defaults used: {exc}"]


def _node_name(node: Any) -> str:
    return str(node.get("name", "")).lower() if isinstance(node, dict) else ""


def merge_layers(system: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """The user's settings laid over the system's.

    Parameters
    ----------
    system, user : dict
        Raw settings dicts (as in ``config.json``).

    Returns
    -------
    dict
        Top-level user keys replace system keys, except the system's
        ``locked`` keys; ``nodes`` merge by name (a user node replaces the
        system node of the same name); dict values merge one level deep.
    """
    locked = set(system.get("locked") or [])
    merged = {k: v for k, v in system.items() if k not in LAYER_KEYS}
    for key, value in user.items():
        if key in LAYER_KEYS or (key in locked and key in system):
            continue
        base = merged.get(key)
        if key == "nodes" and isinstance(base, list) and isinstance(value, list):
            by_name = {_node_name(n): n for n in base}
            by_name.update({_node_name(n): n for n in value})
            merged[key] = list(by_name.values())
        elif isinstance(base, dict) and isinstance(value, dict):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def user_differences(system: dict[str, Any], effective: dict[str, Any]) -> dict[str, Any]:
    """What the user's file has to hold so that it merges back into ``effective``.

    Parameters
    ----------
    system : dict
        The system layer with every default filled in (``Settings.to_dict()``
        of it), so that a node equal to the system's compares equal.
    effective : dict
        The settings to save, as :meth:`Settings.to_dict` gives them.

    Returns
    -------
    dict
        The keys whose values differ from the system's (nodes: those not
        identical to the system's node of that name; dicts: the differing
        entries), always with ``schema_version``.
    """
    out: dict[str, Any] = {}
    for key, value in effective.items():
        if key == "schema_version" or key not in system:
            out[key] = value
            continue
        base = system[key]
        if key == "nodes" and isinstance(base, list) and isinstance(value, list):
            system_nodes = {_node_name(n): n for n in base}
            own = [n for n in value if system_nodes.get(_node_name(n)) != n]
            if own:
                out[key] = own
        elif isinstance(base, dict) and isinstance(value, dict):
            diff = {k: v for k, v in value.items() if k not in base or base[k] != v}
            if diff:
                out[key] = diff
        elif base != value:
            out[key] = value
    return out

