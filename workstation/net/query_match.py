"""Check an archive's C-FIND answers against the keys we sent (pure, no network).

Archives do not all match as PS3.4 C.2.2.2 says: some ignore Modalities in
Study, some fold a name to ASCII before matching (so any Greek name matches
any Japanese one), some treat a key they do not support as universal.  An
answer that does not match a key we sent must not bring another patient (or
another modality) into a list, so every answer is checked here too.

The check is deliberately no stricter than a conforming archive may be: names
match case- and accent-insensitively, against the whole value or any one of
its component groups (alphabetic, ideographic, phonetic); ``*`` and ``?`` are
wildcards where the user typed them.  A key whose value the answer leaves
empty is taken as a mismatch for the patient's name and ID (an answer that
cannot be shown to be this patient is left out) and as unknown otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from pydicom.dataset import Dataset

__all__ = ["answer_mismatches", "matching_keys", "FilteredAnswers"]

#: Keys checked on our side; the others (return keys, UIDs of upper levels) are the archive's business.
_CHECKED = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex", "AccessionNumber",
            "StudyID", "ModalitiesInStudy", "Modality", "StudyDate", "SeriesDate", "StudyInstanceUID",
            "SeriesInstanceUID", "SOPInstanceUID")
#: Keys without which an answer cannot be shown to belong to the patient asked for.
_IDENTITY = {"PatientName", "PatientID"}
_DATES = {"PatientBirthDate", "StudyDate", "SeriesDate"}
_UIDS = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"}


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    return [text] if text else []


def matching_keys(identifier: Dataset) -> dict[str, list[str]]:
    """The matching keys of a query identifier: the checked keys that hold a value."""
    out = {}
    for keyword in _CHECKED:
        if keyword in identifier:
            values = _values(identifier.get(keyword))
            if values:
                out[keyword] = values
    return out


def _fold(text: str) -> str:
    """Case- and accent-insensitive form (NFKD, combining marks dropped, case-folded)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=256)
def _pattern(query: str, fold: bool) -> re.Pattern[str]:
    text = _fold(query) if fold else query
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in text)
    return re.compile("".join(parts), re.DOTALL)


def _trim_pn(text: str) -> str:
    """A PN value without trailing empty components (``Doe^John^^`` is ``Doe^John``)."""
    return "=".join(group.rstrip("^ ") for group in text.split("=")).rstrip("=")


def _name_matches(query: str, answer: str) -> bool:
    pattern = _pattern(_trim_pn(query), True)
    full = _trim_pn(answer)
    candidates = [full] + ([g for g in (_trim_pn(g) for g in full.split("=")) if g] if "=" not in query else [])
    return any(pattern.fullmatch(_fold(c)) for c in candidates)


def _text_matches(query: str, answer: str) -> bool:
    return bool(_pattern(query, False).fullmatch(answer))


def _date_matches(query: str, answer: str) -> bool:
    answer = answer.replace("-", "")[:8] if "-" not in query else answer[:8]
    if "-" not in query:
        return query == answer[: len(query)]
    start, _, end = query.partition("-")
    return (not start or answer >= start) and (not end or answer <= end)


def answer_mismatches(keys: dict[str, list[str]], answer: Dataset) -> list[str]:
    """The keys of ``keys`` (from :func:`matching_keys`) that ``answer`` does not match.

    Returns
    -------
    list of str
        Empty when the answer matches every key it can be checked against.
    """
    bad = []
    for keyword, wanted in keys.items():
        got = _values(answer.get(keyword))
        if not got:
            if keyword in _IDENTITY:
                bad.append(keyword)
            continue
        if keyword == "PatientName":
            ok = any(_name_matches(w, g) for w in wanted for g in got)
        elif keyword in ("ModalitiesInStudy", "Modality"):
            ok = bool({w.upper() for w in wanted} & {g.upper() for g in got}) or any(
                _text_matches(w, g) for w in wanted if "*" in w or "?" in w for g in got)
        elif keyword in _DATES:
            ok = any(_date_matches(w, g) for w in wanted for g in got)
        elif keyword in _UIDS:
            ok = bool(set(wanted) & set(got))
        else:
            ok = any(_text_matches(w, g) for w in wanted for g in got)
        if not ok:
            bad.append(keyword)
    return bad


class FilteredAnswers(Iterator[Dataset]):
    """C-FIND answers with those that do not match the keys sent left out (and counted).

    Iterate it like the answers; :attr:`left_out` counts the answers left
    out by the key they failed, and :meth:`note` says so in one sentence.
    ``close()`` closes the underlying answers (which sends C-CANCEL).

    Parameters
    ----------
    answers : iterator of Dataset
    identifier : Dataset
        The query identifier sent (its matching keys are checked).
    on_done : callable, optional
        Called once with this object when the answers are exhausted.
    resolve_modalities : callable, optional
        For a study-level answer that leaves Modalities in Study empty
        although a modality was asked for: returns the study's modalities
        (e.g. from a SERIES query).  Such answers are held back until the
        query has ended (one association at a time), then checked.
    """

    def __init__(self, answers: Iterator[Dataset], identifier: Dataset,
                 on_done: Callable[[FilteredAnswers], None] | None = None,
                 resolve_modalities: Callable[[Dataset], list[str]] | None = None) -> None:
        self._answers = answers
        self._keys = matching_keys(identifier)
        self._on_done = on_done
        self._resolve = resolve_modalities if "ModalitiesInStudy" in self._keys else None
        self._held: list[Dataset] = []
        self._draining = False
        self.left_out: Counter[str] = Counter()
        self.dropped = 0
        self.unchecked = 0

    def __iter__(self) -> FilteredAnswers:
        return self

    def _next_answer(self) -> Dataset:
        if not self._draining:
            try:
                return next(self._answers)
            except StopIteration:
                self._draining = True
        if self._held:
            answer = self._held.pop(0)
            try:
                answer.ModalitiesInStudy = self._resolve(answer) if self._resolve else []
            except Exception:  # noqa: BLE001 - the answer stays, counted as not checked
                self.unchecked += 1
            return answer
        if self._on_done is not None:
            done, self._on_done = self._on_done, None
            done(self)
        raise StopIteration

    def __next__(self) -> Dataset:
        while True:
            answer = self._next_answer()
            if (self._resolve is not None and not self._draining
                    and not _values(answer.get("ModalitiesInStudy")) and "StudyInstanceUID" in answer):
                self._held.append(answer)
                continue
            bad = answer_mismatches(self._keys, answer) if self._keys else []
            if not bad:
                return answer
            self.dropped += 1
            self.left_out.update(bad)

    def close(self) -> None:
        close = getattr(self._answers, "close", None)
        if close is not None:
            close()

    def note(self) -> str | None:
        """One sentence on what was left out (or could not be checked), or None."""
        parts = []
        if self.dropped:
            keys = ", ".join(f"{k} ({n})" for k, n in self.left_out.most_common())
            parts.append(f"{self.dropped} answer{'s' if self.dropped != 1 else ''} from the archive did not match the "
                         f"query and {'were' if self.dropped != 1 else 'was'} left out here (the archive ignored or "
                         f"loosened: {keys})")
        if self.unchecked:
            parts.append(f"{self.unchecked} answer(s) without Modalities in Study could not be checked")
        return "; ".join(parts) or None

