"""The order's context as the viewer's study header and the report show it (Qt-free, plain text)."""

from __future__ import annotations

from dataclasses import dataclass

from workstation.dicom.person_name import format_person_name
from workstation.store.cache import StudyCache
from workstation.worklist.orders import Order, order_for_study
from workstation.worklist.patients import patient_changes


@dataclass(frozen=True)
class StudyContext:
    """What the header shows above a study: its order, and corrections the RIS made to the patient."""

    order: Order | None
    corrections: tuple[str, ...] = ()

    def header_lines(self) -> list[str]:
        """One line for the order (priority, procedure, reason), one for history and referrer, then corrections."""
        lines: list[str] = []
        o = self.order
        if o is not None:
            first = [o.priority] if o.priority and o.priority != "ROUTINE" else []
            first += [o.requested_procedure] if o.requested_procedure else []
            first += [f"Reason: {o.reason}"] if o.reason else []
            first += [f"Accession {o.accession}"] if o.accession else []
            lines.append("  ·  ".join(first))
            second = [f"History: {o.clinical_history}"] if o.clinical_history else []
            if o.referring_physician:
                second.append(f"Referring: {format_person_name(o.referring_physician)}")
            if second:
                lines.append("  ·  ".join(second))
        lines += list(self.corrections)
        return [line for line in lines if line]


def study_context(cache: StudyCache, study_uid: str) -> StudyContext:
    """The order matched to the study (by Study UID, else accession) and the RIS's corrections of its patient."""
    row = cache.study(study_uid)
    order = order_for_study(cache, study_uid, row.accession if row else "")
    corrections = []
    for change in patient_changes(cache, study_uid=study_uid):
        if change.action == "update" and change.field == "name":
            corrections.append(f"Patient name corrected by the RIS: {format_person_name(change.new_value)} "
                               f"(the images say {format_person_name(change.old_value)})")
        elif change.action == "update":
            corrections.append(f"{change.field.replace('_', ' ').capitalize()} corrected by the RIS: "
                               f"{change.new_value} (was {change.old_value or 'empty'})")
        elif change.action == "merge" and change.field == "name":
            corrections.append(f"Merged by the RIS: now under {format_person_name(change.new_value)} "
                               f"(the images say {format_person_name(change.old_value)})")
        elif change.action == "merge":
            corrections.append(f"Merged by the RIS: now under patient ID {change.new_value} "
                               f"(the images say {change.old_value})")
    return StudyContext(order, tuple(corrections))


def clinical_information(order: Order | None) -> str:
    """The report's clinical information prefilled from the order: reason, then history."""
    if order is None:
        return ""
    parts = [p for p in (order.reason, order.clinical_history) if p]
    return ". ".join(p.rstrip(".") for p in parts) + ("." if parts else "")
