"""GSDF conformance of a monitor from the 18 TG18-LN luminances, and the station's display QA log.

AAPM TG18 (On-line Report No. 03, section 4.3.3.2) judges the luminance
response from luminances measured on the 18 TG18-LN patterns (P-values 0,
15, ..., 255, ambient light included): for each pair of neighbouring levels
the measured contrast ``2 (L₂ - L₁) / (L₂ + L₁)`` per JND between them,
where the JND indices are spread evenly between ``j(Lmin)`` and ``j(Lmax)``
as the GSDF puts the P-values, is compared with the GSDF's own contrast per
JND over the same step.  The deviation may not exceed ±10 % on a primary
(diagnostic) display and ±20 % on a secondary one.

The result goes into ``display-qa.jsonl`` under the home's data folder, one
JSON object per check with its date, so the station keeps its QA history.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workstation.display.gsdf import jnd_index, luminance

__all__ = ["TOLERANCE", "Conformance", "check_conformance", "read_luminances", "QA_LOG_NAME",
           "append_qa_log", "read_qa_log"]

#: Largest deviation of the contrast response allowed, by display class (AAPM TG18).
TOLERANCE = {"primary": 0.10, "secondary": 0.20}
QA_LOG_NAME = "display-qa.jsonl"
LEVELS = 18


@dataclass(frozen=True)
class Conformance:
    """The outcome of one check.

    Attributes
    ----------
    display_class : str
        "primary" or "secondary".
    luminances : list of float
        The 18 luminances used (cd/m², ambient included).
    ambient : float
        Ambient luminance added to the measurements (0 when they include it).
    deviations : list of float
        17 relative deviations of the measured contrast per JND from the GSDF's.
    max_deviation : float
        The largest absolute deviation.
    passed : bool
        True when every deviation is within the tolerance.
    luminance_ratio : float
        Lmax / Lmin.
    """

    display_class: str
    luminances: list[float]
    ambient: float
    deviations: list[float]
    max_deviation: float
    passed: bool
    luminance_ratio: float

    @property
    def tolerance(self) -> float:
        return TOLERANCE[self.display_class]

    def summary(self) -> str:
        """One line for people: the verdict with the worst step."""
        worst = int(np.argmax(np.abs(self.deviations)))
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{verdict}: largest deviation from the GSDF contrast response {self.max_deviation:.1%} "
                f"(steps {worst + 1}-{worst + 2} of 18; limit ±{self.tolerance:.0%} for a {self.display_class} "
                f"display); Lmax/Lmin {self.luminance_ratio:.0f}")

    def table(self) -> list[tuple[int, float, float, float]]:
        """Per step: (step, measured contrast per JND, GSDF contrast per JND, deviation)."""
        measured, expected = _contrast_per_jnd(np.array(self.luminances))
        return [(i + 1, float(m), float(e), float(d)) for i, (m, e, d)
                in enumerate(zip(measured, expected, self.deviations, strict=True))]


def _contrast_per_jnd(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    j = np.linspace(jnd_index(lum[0]), jnd_index(lum[-1]), len(lum))
    dj = np.diff(j)
    measured = 2 * np.diff(lum) / (lum[1:] + lum[:-1]) / dj
    ideal = np.asarray(luminance(j))
    expected = 2 * np.diff(ideal) / (ideal[1:] + ideal[:-1]) / dj
    return measured, expected


def check_conformance(luminances: Iterable[float], *, ambient: float = 0.0,
                      display_class: str = "primary") -> Conformance:
    """Check 18 TG18-LN luminances against the GSDF.

    Parameters
    ----------
    luminances : sequence of float
        Luminance (cd/m²) of TG18-LN12-01 .. 18, in order.
    ambient : float
        Ambient luminance to add when the meter excluded it (telescopic meter,
        lights off); 0 when the readings include it.
    display_class : str
        "primary" (±10 %) or "secondary" (±20 %).

    Returns
    -------
    Conformance

    Raises
    ------
    ValueError
        Not 18 values, a value not a positive number, values not rising, or
        an unknown display class.
    """
    if display_class not in TOLERANCE:
        raise ValueError(f"display class must be primary or secondary (got {display_class!r})")
    values = [float(v) for v in luminances]
    if len(values) != LEVELS:
        raise ValueError(f"need the {LEVELS} TG18-LN luminances, got {len(values)}")
    if ambient < 0 or not np.isfinite(ambient):
        raise ValueError("ambient luminance cannot be negative")
    lum = np.array(values) + ambient
    if not np.all(np.isfinite(lum)) or np.any(lum <= 0):
        raise ValueError("every luminance must be a positive number of cd/m²")
    if np.any(np.diff(lum) <= 0):
        step = int(np.argmax(np.diff(lum) <= 0))
        raise ValueError(f"luminance must rise from one level to the next (level {step + 2} is not above "
                         f"level {step + 1}): check the order of the readings")
    measured, expected = _contrast_per_jnd(lum)
    deviations = (measured - expected) / expected
    worst = float(np.max(np.abs(deviations)))
    return Conformance(display_class, [float(v) for v in lum], float(ambient), [float(d) for d in deviations],
                       worst, worst <= TOLERANCE[display_class], float(lum[-1] / lum[0]))


def read_luminances(text: str) -> list[float]:
    """The luminances of a CSV (or a typed list): the last number of each row that has one.

    Accepts one value per line, ``level,luminance`` rows, a header row, and
    commas, semicolons, tabs or spaces between values.  Where semicolons
    separate the fields and a comma stands between digits (the CSV of
    spreadsheets set up for a decimal comma) the comma is the decimal mark:
    ``1;0,52`` is 0.52.

    Raises
    ------
    ValueError
        When a row's last field is not a number (other than a header row).
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    decimal_comma = ";" in text and re.search(r"\d,\d", text) is not None
    separators = r"[;\s]+" if decimal_comma else r"[,;\s]+"

    def number(field: str) -> float:
        return float(field.replace(",", ".") if decimal_comma else field)

    if len(lines) == 1:  # typed in one line: "0.5, 0.8, 1.3 ..." (or "0,5; 0,8; 1,3")
        fields = [f for f in re.split(separators, lines[0]) if f]
        return [_number(f, i + 1, number) for i, f in enumerate(fields)]
    values: list[float] = []
    for n, line in enumerate(lines, 1):
        cells = [c.strip() for c in re.split(r"[;\t]" if decimal_comma else r"[,;\t]", line) if c.strip()]
        if not cells:
            continue
        try:
            values.append(number(cells[-1].strip('"')))
        except ValueError:
            if n > 1:
                raise ValueError(f"row {n}: {cells[-1]!r} is not a luminance") from None
            # the first row may be a header
    return values


def _number(text: str, position: int, parse: Callable[[str], float] = float) -> float:
    try:
        return parse(text)
    except ValueError:
        raise ValueError(f"value {position}: {text!r} is not a luminance") from None


def append_qa_log(path: Path, result: Conformance, *, monitor: str = "", when: dt.datetime | None = None,
                  note: str = "") -> dict[str, Any]:
    """Add one check to the QA log at ``path`` (JSON lines); returns the entry written."""
    entry = {"date": (when or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
             "test": "TG18-LN GSDF conformance", "monitor": monitor, **asdict(result),
             "tolerance": result.tolerance, "note": note}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def read_qa_log(path: Path) -> list[dict[str, Any]]:
    """The QA log's entries, oldest first (unreadable lines are skipped)."""
    if not path.is_file():
        return []
    entries: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
