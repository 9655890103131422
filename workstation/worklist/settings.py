"""Worklist settings (``Settings.extra["worklist"]``) and the reader's identity.

The reader is the radiologist set for reporting (name and ID): the one who signs
is the one who claims studies, so "mine" means the same thing in both places.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from workstation.config import Node, Settings
from workstation.reporting.settings import ReportingSettings

KEY = "worklist"


@dataclass
class WorklistSettings:
    """How the worklist is filled.

    Attributes
    ----------
    refresh_s : float
        Seconds between automatic refreshes of the worklist tab.
    archives : bool
        Ask the configured archives for studies (besides the local cache).
    days : int
        Without a date range, the archives are asked for studies of the last ``days`` days.
    """

    refresh_s: float = 60.0
    archives: bool = True
    days: int = 1

    @classmethod
    def of(cls, settings: Settings) -> WorklistSettings:
        raw = settings.extra.get(KEY, {})
        raw = raw if isinstance(raw, dict) else {}
        known = {f.name for f in fields(cls)}
        out = cls(**{k: v for k, v in raw.items() if k in known})
        try:
            out.refresh_s = max(5.0, float(out.refresh_s))
            out.days = max(0, int(out.days))
        except (TypeError, ValueError):
            out.refresh_s, out.days = 60.0, 1
        return out

    def store(self, settings: Settings) -> None:
        raw = settings.extra.get(KEY, {})
        merged = dict(raw) if isinstance(raw, dict) else {}
        merged.update(asdict(self))
        settings.extra[KEY] = merged


@dataclass(frozen=True)
class Reader:
    """Who reads at this workstation."""

    name: str = ""
    reader_id: str = ""

    @property
    def known(self) -> bool:
        return bool(self.name or self.reader_id)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reader_of(settings: Settings) -> Reader:
    rs = ReportingSettings.of(settings)
    return Reader(rs.radiologist_name, rs.radiologist_id)


def worklist_nodes(settings: Settings) -> list[Node]:
    """The nodes queried for the Modality Worklist (added with ``--worklist``)."""
    return [n for n in settings.nodes if getattr(n, "worklist", False)]


def archive_nodes(settings: Settings) -> list[Node]:
    """The nodes asked for studies: every configured node but the worklist providers.

    An archive that is also a worklist provider is configured twice (two names).
    """
    return [n for n in settings.nodes if not getattr(n, "worklist", False)]
