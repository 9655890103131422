"""A logging filter that keeps data values (patient names, IDs, raw bytes) out of every log.

Lightbox's own messages carry UIDs, counts and paths inside the cache, but the
libraries below it log whatever a file holds: pydicom's "Invalid value for VR
UI: '<the raw value>'", pynetdicom's identifier dumps ("(0010,0010) PN
[Doe^John]"), exception texts quoting element values.  :class:`PrivacyFilter`
sits on each handler, so it sees every record from any logger, and masks:

* quoted values ('...', "...", b'...') except UID-shaped ones (digits and dots),
* bracketed values of element dumps ([...]),
* words holding a person name's "^" separator,
* the same in a record's traceback text (Lightbox's tracebacks are re-rendered
  masked; a library's traceback of a failure Lightbox handles is left out).

It never drops a record: the log still says that something happened.
"""

from __future__ import annotations

import logging
import re

__all__ = ["PrivacyFilter", "mask_values", "MASK"]

MASK = "<value withheld>"

_UID = re.compile(r"^\d+(\.\d+)+$")
# Quoted strings (optionally a bytes literal), and bracketed dumps of element values.
_QUOTED = re.compile(r"""(?:\bb)?(['"])(?P<body>(?:\\.|(?!\1).){0,20000}?)\1|\[(?P<bracket>[^\[\]]{0,20000})\]""",
                     re.DOTALL)
# A person name's component separator: a word holding "^" is a name whether quoted or not.
_PERSON_NAME = re.compile(r"\S*\^\S*")
# Anything after "value" words that pydicom prints unquoted: "... with value of ABC"
_VALUE_OF = re.compile(r"(value(?: of)?|contains)\s*[:=]\s*(?!<)([^\s,;()]+)", re.IGNORECASE)


def _replace(match: re.Match[str]) -> str:
    body: str | None = match.group("body")
    if body is not None:
        if _UID.match(body) or body == "":
            return match.group(0)
        return f"'{MASK}'"
    bracket: str | None = match.group("bracket")
    if bracket is None or _UID.match(bracket) or bracket.strip().isdigit() and len(bracket) < 4:
        return match.group(0)
    return f"[{MASK}]"


def mask_values(text: str) -> str:
    """``text`` with data values masked (see the module notes).

    Parameters
    ----------
    text : str
        A log message or traceback.

    Returns
    -------
    str
        The same text, quoted and bracketed values replaced by a marker.
    """
    if not text:
        return text
    text = _QUOTED.sub(_replace, text)
    text = _PERSON_NAME.sub(MASK, text)
    text = _VALUE_OF.sub(lambda m: m.group(0) if _UID.match(m.group(2)) else f"{m.group(1)}: {MASK}", text)
    # Raw bytes that never were text: control characters and the like.
    return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)


class PrivacyFilter(logging.Filter):
    """Mask data values in every record a handler emits (attach it to the handler)."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging's name
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
            message = str(record.msg)
        record.msg = mask_values(message)
        record.args = ()
        if (record.exc_info or record.exc_text) and not record.name.startswith("workstation"):
            # A library's traceback of a failure Lightbox handles (a decoder plugin refusing a
            # frame): the message line says what happened; the traceback is noise and may quote data.
            if record.exc_info and record.exc_info[1] is not None:
                record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
            record.exc_info = None
            record.exc_text = None
        elif record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_values(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_values(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_values(record.stack_info)
        return True
