"""The QC checklist of a study: every check as a pass / warn / fail item, and the "QC done" mark.

This is the model the QC panel shows and ``lightbox qc check`` prints; it is
built from :mod:`workstation.qc.checks` and, when an archive was asked,
:mod:`workstation.qc.completeness`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workstation.qc import state
from workstation.qc.checks import FAIL, INFO, PASS, WARN, CheckItem, check_study, worst
from workstation.qc.completeness import CompletenessReport
from workstation.qc.instances import operator_name
from workstation.store.cache import StudyCache

if TYPE_CHECKING:
    from workstation.net.retrieve import RetrieveReport


@dataclass
class Checklist:
    """The checklist of one study."""

    study_uid: str
    items: list[CheckItem]
    mark: state.QcMark | None = None
    completeness: CompletenessReport | None = None
    #: The retrieve that fetched missing instances just before this checklist was made, if one did.
    fetched: RetrieveReport | None = None

    @property
    def overall(self) -> str:
        """``fail`` if any item failed, else ``warn`` if any warned, else ``pass``."""
        return worst([i.status for i in self.items if i.status != INFO]) if self.items else INFO

    def counts(self) -> dict[str, int]:
        c = Counter(i.status for i in self.items)
        return {s: c.get(s, 0) for s in (PASS, WARN, FAIL, INFO)}

    def summary(self) -> str:
        c = self.counts()
        return (f"{c[PASS]} passed, {c[WARN]} warning(s), {c[FAIL]} failed"
                + (f", {c[INFO]} not checked" if c[INFO] else ""))

    def as_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid, "overall": self.overall, "counts": self.counts(),
            "qc_done": self.mark.as_dict() if self.mark else None,
            "items": [i.as_dict() for i in self.items],
            "completeness": self.completeness.as_dict() if self.completeness else None,
        }


def completeness_item(report: CompletenessReport | None) -> CheckItem:
    """The checklist item of a completeness report (``info`` when no archive was asked)."""
    title = "Complete against the archive"
    if report is None:
        return CheckItem("completeness", title, INFO, "Not checked: choose an archive to compare with")
    if report.error:
        return CheckItem("completeness", title, INFO, f"Could not check: {report.error}")
    details = []
    for s in report.series:
        label = f"series {s.series_number if s.series_number is not None else '?'} {s.description}".strip()
        archived = "?" if s.archived is None else str(s.archived)
        line = f"{label}: {s.cached} cached, {archived} on the archive"
        if s.missing:
            line += f", {len(s.missing)} missing"
        if s.not_on_archive:
            line += f", {len(s.not_on_archive)} not on the archive"
        details.append(line)
    if report.missing:
        return CheckItem("completeness", title, FAIL,
                         f"{len(report.missing)} instance(s) on {report.node} are not in the cache: fetch them",
                         details)
    if report.not_on_archive:
        return CheckItem("completeness", title, WARN,
                         f"{len(report.not_on_archive)} instance(s) in the cache are not on {report.node}: send them",
                         details)
    archived = "?" if report.archived is None else str(report.archived)
    return CheckItem("completeness", title, PASS,
                     f"Every instance on {report.node} is cached ({archived} on the archive)", details)


def build_checklist(cache: StudyCache, study_uid: str, completeness: CompletenessReport | None = None) -> Checklist:
    """The study's checklist from the local checks and, if given, a completeness report.

    Raises
    ------
    workstation.qc.instances.QcError
        When the study is not in the cache.
    """
    items = check_study(cache, study_uid)
    items.insert(0, completeness_item(completeness))
    return Checklist(study_uid, items, state.qc_mark(cache, study_uid), completeness)


def mark_done(cache: StudyCache, checklist: Checklist, operator: str | None = None) -> state.QcMark:
    """Mark the study "QC done", remembering the checklist's outcome at that moment."""
    mark = state.set_qc_done(cache, checklist.study_uid, operator=operator_name(operator),
                             outcome=checklist.overall, summary=checklist.summary())
    checklist.mark = mark
    return mark


def unmark_done(cache: StudyCache, study_uid: str, operator: str | None = None) -> bool:
    """Take the "QC done" mark away; False when there was none."""
    return state.clear_qc_done(cache, study_uid, operator=operator_name(operator))
