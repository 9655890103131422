"""After the whole test session: no log any test wrote names a patient.

Every test's home is under pytest's base temporary folder; their logs are
searched for the campaign's planted markers and for any person name in DICOM
form (a word with a ``^``), which the logging filter masks wherever it comes from.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.fuzz import MARKERS

_PERSON_NAME = re.compile(r"[A-Za-z]{2,}\^[A-Za-z]{2,}")


def patient_names_in_logs(base: Path, limit: int = 20) -> list[str]:
    """Lines of test logs under ``base`` that name a patient (``path: line``), at most ``limit``."""
    hits: list[str] = []
    for log in base.rglob("lightbox-home/logs/*.log*"):
        try:
            text = log.read_text("utf-8", "replace")
        except OSError:
            continue
        for line in text.splitlines():
            if any(m in line for m in MARKERS) or _PERSON_NAME.search(line):
                hits.append(f"{log}: {line[:200]}")
                if len(hits) >= limit:
                    return hits
    return hits
