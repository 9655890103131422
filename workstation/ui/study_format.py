"""What the study list shows, as plain functions (no Qt: tests call them directly).

The widgets only display the strings and keys computed here, so every rule
about names, dates, filters and messages is testable without a display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from collections.abc import Iterable

from workstation.dicom.person_name import format_person_name as _format_pn
from workstation.reporting.reading_status import index_status, reading_status_words
from workstation.store.queries import StudyFilter, StudyRow

MIXED_PATIENTS_TOOLTIP = "this study holds images of more than one patient"

# Offered in the modality filter even before a study of that kind is cached.
COMMON_MODALITIES = (
    "CR", "CT", "DX", "ECG", "MG", "MR", "NM", "OT", "PT", "RF", "RTDOSE", "RTPLAN",
    "RTSTRUCT", "SEG", "SR", "US", "XA",
)

ANY = "any"


class Column(IntEnum):
    """Columns of the study list, in display order."""

    PATIENT_NAME = 0
    PATIENT_ID = 1
    BIRTH_DATE = 2
    SEX = 3
    STUDY_DATE = 4
    MODALITIES = 5
    DESCRIPTION = 6
    ACCESSION = 7
    SERIES = 8
    IMAGES = 9
    REPORT = 10


HEADERS: dict[Column, str] = {
    Column.PATIENT_NAME: "Patient name",
    Column.PATIENT_ID: "Patient ID",
    Column.BIRTH_DATE: "Birth date",
    Column.SEX: "Sex",
    Column.STUDY_DATE: "Study date",
    Column.MODALITIES: "Modalities",
    Column.DESCRIPTION: "Description",
    Column.ACCESSION: "Accession",
    Column.SERIES: "Series",
    Column.IMAGES: "Images",
    Column.REPORT: "Report",
}

NUMERIC_COLUMNS = frozenset({Column.SERIES, Column.IMAGES})


def format_person_name(pn: str) -> str:
    """A DICOM PN value as a person reads it: ``Müller^Anna`` becomes ``Müller, Anna``.

    Parameters
    ----------
    pn : str
        The value as stored: components ``family^given^middle^prefix^suffix``,
        optionally followed by ``=ideographic=phonetic`` groups, and several
        names separated by ``\\``.

    Returns
    -------
    str
        ``Family, Prefix Given Middle, Suffix`` with empty parts left out, the
        ideographic group shown as the site chose
        (:mod:`workstation.dicom.person_name`, default ``Yamada, Tarou (山田 太郎)``).
        Empty when the value holds no name at all.
    """
    return _format_pn(pn)


def format_da(value: str) -> str:
    """A DICOM DA value as ``YYYY-MM-DD``.

    Parameters
    ----------
    value : str
        ``YYYYMMDD``, or the old ACR-NEMA ``YYYY.MM.DD``.

    Returns
    -------
    str
        ``YYYY-MM-DD``; anything that is not a date is returned unchanged so
        nothing is hidden from the reader.
    """
    value = (value or "").strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:8]}"
    if len(value) == 10 and value[4] == "." and value[7] == "." and value.replace(".", "").isdigit():
        return value.replace(".", "-")
    return value


def format_modalities(value: str) -> str:
    """Backslash-separated modalities as ``CT, MR``."""
    return ", ".join(m for m in (value or "").split("\\") if m)


def count_label(n: int) -> str:
    """``1 study``, ``12 studies``."""
    return f"{n} study" if n == 1 else f"{n} studies"


def images_shown(row: StudyRow) -> int:
    """The Images column: instances a reader sees (rejected images and rejection notes left out)."""
    return max(row.num_instances - getattr(row, "num_rejected", 0), 0)


def display_value(row: StudyRow, column: Column) -> str:
    """The text shown in ``column`` for ``row``."""
    if column is Column.PATIENT_NAME:
        return format_person_name(row.patient_name)
    if column is Column.PATIENT_ID:
        return row.patient_id
    if column is Column.BIRTH_DATE:
        return format_da(row.birth_date)
    if column is Column.SEX:
        return row.sex
    if column is Column.STUDY_DATE:
        return format_da(row.study_date)
    if column is Column.MODALITIES:
        return format_modalities(row.modalities)
    if column is Column.DESCRIPTION:
        return row.description
    if column is Column.ACCESSION:
        return row.accession
    if column is Column.SERIES:
        return str(row.num_series)
    if column is Column.IMAGES:
        return str(images_shown(row))
    if column is Column.REPORT:
        return reading_status_words(getattr(row, "report_status", "unreported"))
    raise ValueError(f"unknown column {column!r}")


def sort_key(row: StudyRow, column: Column) -> Any:
    """What ``column`` sorts by: numbers as numbers, dates and time together, text case-blind."""
    if column is Column.SERIES:
        return row.num_series
    if column is Column.IMAGES:
        return images_shown(row)
    if column is Column.STUDY_DATE:
        return f"{row.study_date} {row.study_time}"
    if column is Column.BIRTH_DATE:
        return row.birth_date
    return display_value(row, column).casefold()


def modality_choices(seen: Iterable[str] = ()) -> list[str]:
    """Entries of the modality filter: ``any``, then the common modalities and any others seen.

    Parameters
    ----------
    seen : iterable of str
        Modality strings of cached studies (backslash-separated values are split).
    """
    extra: set[str] = set()
    for value in seen:
        extra.update(m for m in (value or "").split("\\") if m)
    return [ANY, *sorted(set(COMMON_MODALITIES) | extra)]


def date_to_da(day: dt.date | None) -> str:
    """A date as DICOM DA (``YYYYMMDD``); ``None`` (any date) as empty."""
    return day.strftime("%Y%m%d") if day is not None else ""


@dataclass(frozen=True)
class FilterInput:
    """What the filter bar holds, before it becomes a :class:`StudyFilter`."""

    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    modality: str = ANY
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    reading_status: str = ANY


def build_filter(inp: FilterInput) -> StudyFilter:
    """Turn the filter bar's fields into the index's filter.

    Parameters
    ----------
    inp : FilterInput
        Texts as typed (blank means no filter), the modality chosen (``any`` means
        none) and the date range (``None`` ends are open; reversed ends are swapped).

    Returns
    -------
    StudyFilter
    """
    lo, hi = inp.date_from, inp.date_to
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    modality = inp.modality.strip()
    return StudyFilter(
        patient_name=_name_query(inp.patient_name),
        patient_id=inp.patient_id.strip(),
        accession=inp.accession.strip(),
        modality="" if modality.lower() in ("", ANY) else modality.upper(),
        date_from=date_to_da(lo),
        date_to=date_to_da(hi),
        report_status=index_status(inp.reading_status),
    )


def _name_query(text: str) -> str:
    """A typed name to the index's form: ``Müller, Anna`` searches ``Müller^Anna``."""
    text = text.strip()
    if "," in text:
        family, _, given = text.partition(",")
        text = f"{family.strip()}^{given.strip()}" if given.strip() else family.strip()
    return text


def import_summary_message(summary: Any) -> str:
    """One status-bar line for a finished import (counts only, never patient data).

    Parameters
    ----------
    summary : workstation.store.importer.ImportSummary
    """
    parts = [
        f"{summary.imported} imported",
        _plural(summary.duplicates, "duplicate"),
        _plural(summary.conflicts, "conflict"),
        f"{len(summary.skipped)} skipped",
    ]
    if summary.failed:
        parts.append(f"{summary.failed} failed")
    head = "Import cancelled" if summary.cancelled else "Import finished"
    return f"{head}: " + ", ".join(parts)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def first_line(message: str, limit: int = 160) -> str:
    """The first line of an error message, cut to fit a status bar."""
    line = " ".join((message or "").strip().splitlines()[:1]).strip() or "unknown error"
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
