"""The reporting settings, kept under ``Settings.extra["reporting"]`` in config.json.

Only paths to key material are stored, never a key or a passphrase.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from workstation.config import Settings

KEY = "reporting"


@dataclass
class ReportingSettings:
    """What a radiologist sets once: who signs, with which certificate, what to trust, where reports go.

    Attributes
    ----------
    radiologist_name : str
        DICOM PN, ``Family^Given`` (Verifying Observer Name, Person Observer Name).
    radiologist_id : str
        The reader's identifier at the site (login or staff number).
    organisation : str
        Verifying Organization.
    key_path, cert_path : str
        A PKCS#12 file (``key_path`` alone) or a PEM key and its certificate.
    trust_store : list of str
        Certificate files or folders whose certificates (and what they issued) are trusted.
    destination : str
        Node name reports are sent to; empty means automatic: the study's own archive,
        else ``site_destination``, else the only configured node.
    site_destination : str
        The site's default for studies that came from no known node (usually set in
        the system-wide settings file).
    """

    radiologist_name: str = ""
    radiologist_id: str = ""
    organisation: str = ""
    key_path: str = ""
    cert_path: str = ""
    trust_store: list[str] = field(default_factory=list)
    destination: str = ""
    site_destination: str = ""

    @classmethod
    def of(cls, settings: Settings) -> ReportingSettings:
        raw = settings.extra.get(KEY, {})
        if not isinstance(raw, dict):
            raw = {}
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        if isinstance(values.get("trust_store"), str):
            values["trust_store"] = [values["trust_store"]]
        # Under a site login the reader is the directory's user: the report's observer where the settings
        # name nobody (the same identity as the audit trail and the status bar).
        from workstation.audit.identity import session_user

        user = session_user()
        if user is not None:
            # A directory's display name is one string ("Ana Ñúñez"): as a DICOM person name it is one
            # component, marked so by a trailing caret (PS3.5 6.2.1.2) rather than read as a family name.
            name = user.display_name or user.login
            values["radiologist_name"] = values.get("radiologist_name") or (name if "^" in name else name + "^")
            values["radiologist_id"] = values.get("radiologist_id") or user.login
        return cls(**values)

    def store(self, settings: Settings) -> None:
        """Write back into ``settings`` (keys this version does not know are kept)."""
        raw = settings.extra.get(KEY, {})
        merged = dict(raw) if isinstance(raw, dict) else {}
        merged.update(asdict(self))
        settings.extra[KEY] = merged
