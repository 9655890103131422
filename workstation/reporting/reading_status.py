"""A study's reading status as the study list shows and filters it: unread, draft, preliminary, final, amended.

The index keeps each study's latest report state (``report_status``: preliminary,
final, amended; "draft" while only a draft exists; "unreported" otherwise); the
reader sees "unread" for a study nobody reported yet, and "final (signed)".
"""

from __future__ import annotations

#: The statuses a reader filters on, in the order of a study's life.
READING_STATUSES = ("unread", "draft", "preliminary", "final", "amended")
_WORDS = {"unreported": "unread", "final": "final (signed)"}
_INDEX = {"unread": "unreported"}


def reading_status_words(report_status: str) -> str:
    """The index's report status as the study list shows it (``unreported`` → ``unread``)."""
    status = (report_status or "unreported").strip()
    return _WORDS.get(status, status)


def index_status(reading_status: str) -> str:
    """A status the reader chose (``unread``, ``final`` …) as the index stores it; "" for any."""
    status = (reading_status or "").strip().lower().split(" ")[0]
    if status not in READING_STATUSES:
        return ""
    return _INDEX.get(status, status)
