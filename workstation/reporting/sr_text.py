"""Any DICOM SR as readable text (Lightbox's reports and everyone else's).

Reads the content tree with pydicom only (no template knowledge needed), so
radiation dose SRs, key object selections and malformed trees from other
systems render too; what cannot be read is shown as such, never raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from workstation.dicom.person_name import format_person_name
from workstation.reporting.codes import Coded
from workstation.reporting.precision import shown_unit

INDENT = "  "
#: A finding without more to its name: under a heading, its text is shown alone.
GENERIC_FINDING = ("121071", "DCM")
_MAX_DEPTH = 64  # a malformed (cyclic-looking) tree stops here instead of recursing forever


@dataclass(frozen=True)
class ReportSummary:
    """The document-level facts the report list and panel show."""

    sop_instance_uid: str
    title: str
    completion: str
    verification: str
    preliminary: str
    content_datetime: str
    observers: tuple[str, ...]
    predecessors: tuple[str, ...]
    signed: bool

    @property
    def state(self) -> str:
        """preliminary / final / amended, as the study list words it."""
        if self.predecessors and self.verification == "VERIFIED":
            return "amended"
        if self.completion == "COMPLETE" and self.verification == "VERIFIED":
            return "final"
        return "preliminary"


def _code(seq_owner: Dataset, keyword: str) -> Coded | None:
    seq = seq_owner.get(keyword)
    if not seq:
        return None
    try:
        return Coded.from_item(seq[0])
    except Exception:  # noqa: BLE001 - a broken code item reads as unknown
        return None


def _pn(value: object) -> str:
    return str(value or "").replace("^", " ").strip()


def summarize(ds: Dataset) -> ReportSummary:
    title = _code(ds, "ConceptNameCodeSequence")
    observers = tuple(
        f"{_pn(o.get('VerifyingObserverName'))} ({o.get('VerifyingOrganization', '')}) at "
        f"{_datetime(str(o.get('VerificationDateTime', '')))}"
        for o in ds.get("VerifyingObserverSequence", [])
    )
    predecessors = tuple(
        str(inst.get("ReferencedSOPInstanceUID", ""))
        for study in ds.get("PredecessorDocumentsSequence", [])
        for series in study.get("ReferencedSeriesSequence", [])
        for inst in series.get("ReferencedSOPSequence", [])
    )
    return ReportSummary(
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        title=title.meaning if title else str(ds.get("SeriesDescription", "") or "Structured report"),
        completion=str(ds.get("CompletionFlag", "")),
        verification=str(ds.get("VerificationFlag", "")),
        preliminary=str(ds.get("PreliminaryFlag", "")),
        content_datetime=_datetime(f"{ds.get('ContentDate', '')}{ds.get('ContentTime', '')}"),
        observers=observers,
        predecessors=predecessors,
        signed=bool(ds.get((0xFFFA, 0xFFFA))),
    )


def render(ds: Dataset, *, header: bool = True) -> str:
    """The SR as indented text: document facts, then one line per content item."""
    return "\n".join(render_lines(ds, header=header))


def render_lines(ds: Dataset, *, header: bool = True) -> list[str]:
    lines: list[str] = []
    if "ContentSequence" not in ds and "ValueType" not in ds:
        raise ValueError("not a structured report (no content tree)")
    s = summarize(ds)
    if header:
        lines += [
            f"{s.title}",
            f"Patient: {format_person_name(ds.get('PatientName'))}  ID: {ds.get('PatientID', '')}  "
            f"Study: {ds.get('StudyDescription', '')} {_date(str(ds.get('StudyDate', '')))}",
            f"SOP Class: {getattr(ds.get('SOPClassUID'), 'name', '') or ds.get('SOPClassUID', '')}",
            f"SOP Instance UID: {s.sop_instance_uid}",
            f"Content date/time: {s.content_datetime}",
            f"Completion: {s.completion or '-'}  Verification: {s.verification or '-'}"
            + (f"  Preliminary flag: {s.preliminary}" if s.preliminary else ""),
        ]
        lines += [f"Verified by: {o}" for o in s.observers]
        lines += [f"Replaces: {p}" for p in s.predecessors]
        lines.append("")
    lines += list(_item_lines(ds, 0, is_root=True))
    return lines


@dataclass(frozen=True)
class Heading:
    """One heading of a report and what is written under it (for the PDF and other layouts).

    ``depth`` is 1 for a section (Findings), 2 for a sub-heading of the
    template (Lungs and airways) and so on; ``lines`` are the items directly
    under it, as text (a TEXT item under a heading of its own shows its text alone).
    """

    title: str
    depth: int
    lines: tuple[str, ...]


def headings(ds: Dataset) -> list[Heading]:
    """The report's headings in document order (the root's CONTAINER items and the CONTAINERs in them).

    Context items (observer, language) are left out; they belong to the document header.
    This is the interface PDF layouts build on: the same headings as :func:`render`.
    """
    out: list[Heading] = []

    def walk(container: Dataset, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        name = _code(container, "ConceptNameCodeSequence")
        lines: list[str] = []
        children = list(container.get("ContentSequence", []))
        slot = len(out)
        out.append(Heading(name.meaning if name else "Container", depth, ()))
        for child in children:
            if str(child.get("ValueType", "")) == "CONTAINER":
                walk(child, depth + 1)
                continue
            if str(child.get("RelationshipType", "")) != "CONTAINS":
                continue
            try:
                vt = str(child.get("ValueType", "") or "")
                # A section's only text (Impressions: the impression) or a plain finding under a sub-heading.
                bare = _generic_text(child, len(children)) if depth >= 2 else (vt == "TEXT" and len(children) == 1)
                text = _value(child, vt) if bare else _describe(child)
            except Exception as exc:  # noqa: BLE001 - show the damage, go on with the rest
                text = f"(unreadable content item: {exc})"
            lines.append(text)
        out[slot] = Heading(out[slot].title, depth, tuple(lines))

    for item in ds.get("ContentSequence", []):
        if str(item.get("ValueType", "")) == "CONTAINER":
            walk(item, 1)
    return out


def _item_lines(item: Dataset, depth: int, *, is_root: bool = False, bare: bool = False) -> Iterator[str]:
    pad = INDENT * depth
    if depth > _MAX_DEPTH:
        yield f"{pad}… (nested deeper than {_MAX_DEPTH} levels; not shown)"
        return
    if "ReferencedContentItemIdentifier" in item:
        target = ".".join(str(v) for v in _as_list(item.ReferencedContentItemIdentifier))
        yield f"{pad}{_relationship(item)}(see content item {target})"
        return
    try:
        line = _value(item, "TEXT") if bare else _describe(item)
    except Exception as exc:  # noqa: BLE001 - show the damage, go on with the rest
        line = f"(unreadable content item: {exc})"
    first, *rest = line.replace("\r\n", "\n").split("\n")
    yield pad + ("" if is_root else _relationship(item)) + first
    for more in rest:  # multi-line text values stay under their item
        yield pad + ("" if bare else INDENT + INDENT) + more
    children = list(item.get("ContentSequence", []))
    # Under a sub-heading of a section ("Lungs and airways" under Findings), a text that is only a
    # "Finding" is what the reader wrote under that heading: shown without the generic label.
    sub_heading = depth >= 2 and str(item.get("ValueType", "")) == "CONTAINER"
    for child in children:
        yield from _item_lines(child, depth + 1, bare=sub_heading and _generic_text(child, len(children)))


def _generic_text(item: Dataset, siblings: int) -> bool:
    """A contained TEXT that is the only item, or a plain "Finding" (121071, DCM)."""
    if str(item.get("ValueType", "")) != "TEXT" or str(item.get("RelationshipType", "")) != "CONTAINS":
        return False
    name = _code(item, "ConceptNameCodeSequence")
    return siblings == 1 or (name is not None and (name.value, name.scheme) == GENERIC_FINDING)


def _relationship(item: Dataset) -> str:
    rel = str(item.get("RelationshipType", "") or "")
    return {"CONTAINS": "", "HAS CONCEPT MOD": "[modifier] ", "HAS OBS CONTEXT": "[context] ",
            "HAS ACQ CONTEXT": "[acquisition] ", "HAS PROPERTIES": "[property] ",
            "INFERRED FROM": "[from] ", "SELECTED FROM": "[on] "}.get(rel, f"[{rel.lower()}] " if rel else "")


def _describe(item: Dataset) -> str:
    vt = str(item.get("ValueType", "") or "")
    name_code = _code(item, "ConceptNameCodeSequence")
    name = name_code.meaning if name_code else ""
    value = _value(item, vt)
    if vt == "CONTAINER":
        return f"{name or 'Container'}" + (":" if item.get("ContentSequence") else "")
    label = f"{name}: " if name else ""
    return f"{label}{value}" if value != "" else f"{name or vt} (no value)"


def _value(item: Dataset, vt: str) -> str:
    if vt == "TEXT":
        return str(item.get("TextValue", ""))
    if vt == "CODE":
        c = _code(item, "ConceptCodeSequence")
        return str(c) if c else ""
    if vt == "NUM":
        mv = item.get("MeasuredValueSequence")
        if not mv:
            qual = _code(item, "NumericValueQualifierCodeSequence")
            return f"(no value{': ' + qual.meaning if qual else ''})"
        unit = _code(mv[0], "MeasurementUnitsCodeSequence")
        shown = shown_unit(unit.value) if unit else ""
        value = str(mv[0].get('NumericValue', ''))
        return f"{value}{shown}" if shown == "°" else f"{value} {shown}".strip()
    if vt == "DATE":
        return _date(str(item.get("Date", "")))
    if vt == "TIME":
        return str(item.get("Time", ""))
    if vt == "DATETIME":
        return _datetime(str(item.get("DateTime", "")))
    if vt == "PNAME":
        return _pn(item.get("PersonName"))
    if vt == "UIDREF":
        return str(item.get("UID", ""))
    if vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        return _reference(item)
    if vt in ("SCOORD", "SCOORD3D"):
        data = _as_list(item.get("GraphicData", []))
        pts = ", ".join(f"{float(v):g}" for v in data[:8]) + (" …" if len(data) > 8 else "")
        return f"{item.get('GraphicType', '')} ({pts})"
    if vt == "TCOORD":
        return str(item.get("TemporalRangeType", ""))
    if vt == "CONTAINER":
        return ""
    return f"({vt or 'no value type'})"


def _reference(item: Dataset) -> str:
    seq = item.get("ReferencedSOPSequence")
    if not seq:
        return "(no reference)"
    ref = seq[0]
    cls = ref.get("ReferencedSOPClassUID")
    cls_name = getattr(cls, "name", "") or str(cls or "")
    text = f"{cls_name} {ref.get('ReferencedSOPInstanceUID', '')}"
    if "ReferencedFrameNumber" in ref:
        text += f" frame {','.join(str(v) for v in _as_list(ref.ReferencedFrameNumber))}"
    return text


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]


def _date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) >= 8 and da[:8].isdigit() else da


def _datetime(text: str) -> str:
    if len(text) >= 12 and text[:12].isdigit():
        out = f"{_date(text[:8])} {text[8:10]}:{text[10:12]}"
        if len(text) >= 14 and text[12:14].isdigit():
            out += f":{text[12:14]}"
        tz = next((text[i:] for i in range(8, len(text)) if text[i] in "+-"), "")
        return out + (f" {tz}" if tz else "")
    return text
