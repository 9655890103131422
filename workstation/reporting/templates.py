"""Report templates: data files of sections and fields with coded concept names.

A template (``resources/report_templates/<id>.json``) names the document
title, then sections (TID 2000 headings such as Findings (121070, DCM)), each
holding fields.  A field has a coded concept name, a type and maybe a
``required`` mark:

- ``text``: free text (a TEXT content item);
- ``code``: a choice from ``options`` (a CODE content item);
- ``numeric``: a number with a UCUM ``unit`` (a NUM content item);
- ``date``: a date, YYYYMMDD or YYYY-MM-DD (a DATE content item).

A field may carry a ``heading`` (a coded concept): it is then its own
sub-heading of the section, a CONTAINER of that concept in the SR ("Lungs and
airways" under Findings), so the report keeps the template's structure; its
label is the heading's meaning.  Numeric fields are rounded to the decimals of
their unit, or to ``decimals`` when given.

Field ids are unique within a template; drafts and ``--field NAME=VALUE`` use them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workstation.reporting.codes import DIAGNOSTIC_IMAGING_REPORT, Coded, unit

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "resources" / "report_templates"
FIELD_TYPES = ("text", "code", "numeric", "date")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class TemplateError(ValueError):
    """A template file is malformed, or a value does not fit its field."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a template section."""

    id: str
    label: str
    type: str
    concept: Coded
    required: bool = False
    options: tuple[Coded, ...] = ()
    unit: Coded | None = None
    multiline: bool = True
    #: Its own heading inside the section (a CONTAINER of that concept in the SR), e.g. "Lungs and airways".
    heading: Coded | None = None
    #: Decimals of a numeric value (default: those of its unit, see :mod:`~workstation.reporting.precision`).
    decimals: int | None = None

    @property
    def places(self) -> int:
        """Decimals a numeric value of this field is rounded to."""
        from workstation.reporting.precision import decimals_for

        if self.decimals is not None:
            return self.decimals
        return decimals_for(self.unit.value) if self.unit is not None else 2

    def option(self, text: str) -> Coded:
        """The option matching ``text``: its code value, its meaning (any case) or ``value^scheme``."""
        t = text.strip()
        for o in self.options:
            if t in (o.value, f"{o.value}^{o.scheme}") or t.casefold() == o.meaning.casefold():
                return o
        choices = "; ".join(f"{o.value} = {o.meaning}" for o in self.options)
        raise TemplateError(f"{self.label}: {text!r} is not one of the choices ({choices})")

    def parse(self, text: str) -> Any:
        """Turn typed text into this field's value (str, Coded, float or YYYYMMDD str)."""
        if self.type == "text":
            return text
        if self.type == "code":
            return self.option(text)
        if self.type == "numeric":
            try:
                return float(text.replace(",", ".")) if isinstance(text, str) else float(text)
            except ValueError:
                raise TemplateError(f"{self.label}: {text!r} is not a number") from None
        digits = text.strip().replace("-", "")
        if not (len(digits) == 8 and digits.isdigit()):
            raise TemplateError(f"{self.label}: {text!r} is not a date (YYYY-MM-DD)")
        import datetime as dt

        try:
            dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            raise TemplateError(f"{self.label}: {text!r} is not a date (YYYY-MM-DD)") from None
        return digits


@dataclass(frozen=True)
class Section:
    id: str
    label: str
    concept: Coded
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class ReportTemplate:
    """A report template: document title, sections of fields, where measurements and key images go."""

    id: str
    title: str
    document_title: Coded
    sections: tuple[Section, ...]
    measurement_section: str = "findings"
    modalities: tuple[str, ...] = ()
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def fields(self) -> list[FieldSpec]:
        return [f for s in self.sections for f in s.fields]

    def field(self, field_id: str) -> FieldSpec:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise TemplateError(
            f"template {self.id!r} has no field {field_id!r} (fields: {', '.join(f.id for f in self.fields)})"
        )

    def section_of(self, field_id: str) -> Section:
        for s in self.sections:
            if any(f.id == field_id for f in s.fields):
                return s
        raise TemplateError(f"template {self.id!r} has no field {field_id!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any], path: Path | None = None) -> ReportTemplate:
        where = f"template {path.name if path else d.get('id', '?')}"
        try:
            tid = str(d["id"])
            sections = []
            seen: set[str] = set()
            for s in d["sections"]:
                fields_ = []
                for f in s["fields"]:
                    spec = _field(f, where)
                    if spec.id in seen:
                        raise TemplateError(f"{where}: field id {spec.id!r} used twice")
                    seen.add(spec.id)
                    fields_.append(spec)
                sections.append(Section(str(s["id"]), str(s.get("label", s["id"])), Coded.from_dict(s["concept"]),
                                        tuple(fields_)))
            tpl = cls(
                id=tid,
                title=str(d.get("title", tid)),
                document_title=(Coded.from_dict(d["document_title"]) if "document_title" in d
                                else DIAGNOSTIC_IMAGING_REPORT),
                sections=tuple(sections),
                measurement_section=str(d.get("measurement_section", "findings")),
                modalities=tuple(d.get("modalities", ())),
                description=str(d.get("description", "")),
                path=path,
            )
        except TemplateError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise TemplateError(f"{where}: {exc}") from None
        if not _ID_RE.match(tpl.id):
            raise TemplateError(f"{where}: id {tpl.id!r} must be lower case letters, digits and _")
        if tpl.measurement_section not in {s.id for s in tpl.sections}:
            raise TemplateError(f"{where}: measurement_section {tpl.measurement_section!r} is not a section")
        return tpl


def _field(f: dict[str, Any], where: str) -> FieldSpec:
    ftype = str(f.get("type", "text"))
    if ftype not in FIELD_TYPES:
        raise TemplateError(f"{where}: field {f.get('id')!r} has type {ftype!r}; one of {', '.join(FIELD_TYPES)}")
    fid = str(f["id"])
    if not _ID_RE.match(fid):
        raise TemplateError(f"{where}: field id {fid!r} must be lower case letters, digits and _")
    options = tuple(Coded.from_dict(o) for o in f.get("options", ()))
    if ftype == "code" and not options:
        raise TemplateError(f"{where}: coded field {fid!r} has no options")
    if ftype == "numeric" and not f.get("unit"):
        raise TemplateError(f"{where}: numeric field {fid!r} has no unit")
    return FieldSpec(
        id=fid,
        label=str(f.get("label", fid)),
        type=ftype,
        concept=Coded.from_dict(f["concept"]),
        required=bool(f.get("required", False)),
        options=options,
        unit=unit(str(f["unit"])) if f.get("unit") else None,
        multiline=bool(f.get("multiline", ftype == "text")),
        heading=Coded.from_dict(f["heading"]) if f.get("heading") else None,
        decimals=int(f["decimals"]) if f.get("decimals") is not None else None,
    )


# Templates parsed before, by file and content: a study's open picks its template from all of them,
# and reading the files costs little next to parsing them.
_parsed: dict[str, tuple[bytes, ReportTemplate]] = {}


def load_template(path: Path) -> ReportTemplate:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from None
    kept = _parsed.get(str(path))
    if kept is not None and kept[0] == raw:
        return kept[1]  # templates are immutable: one object serves every caller
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from None
    template = ReportTemplate.from_dict(data, Path(path))
    _parsed[str(path)] = (raw, template)
    return template


def builtin_templates(directory: Path = TEMPLATES_DIR) -> dict[str, ReportTemplate]:
    """Every template in ``directory`` by id, in file-name order."""
    out: dict[str, ReportTemplate] = {}
    for path in sorted(Path(directory).glob("*.json")):
        tpl = load_template(path)
        out[tpl.id] = tpl
    return out


def get_template(template_id: str, directory: Path = TEMPLATES_DIR) -> ReportTemplate:
    templates = builtin_templates(directory)
    if template_id not in templates:
        raise TemplateError(f"no report template {template_id!r} (templates: {', '.join(templates)})")
    return templates[template_id]


def template_for_modalities(modalities: str, directory: Path = TEMPLATES_DIR) -> ReportTemplate:
    """The first template made for one of a study's modalities (``CT\\SR``), else ``general``."""
    mods = {m for m in modalities.replace("/", "\\").split("\\") if m}
    templates = builtin_templates(directory)
    for tpl in templates.values():
        if mods & set(tpl.modalities):
            return tpl
    return templates["general"]
