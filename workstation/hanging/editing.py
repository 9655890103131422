"""What the protocol editor edits, without widgets: a draft with rules as form rows.

The matching rules are edited in a form, one row per rule (attribute,
constraint, value, weight, required, not); the rest of the protocol (priors,
display sets, stages) as YAML text, JSON being YAML too.  :meth:`ProtocolDraft.build`
runs the same validation as loading a file, so the editor can only save what
the library will read back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
import yaml
from pydicom.errors import InvalidDicomError

from workstation.hanging.constraints import as_number
from workstation.hanging.dicom_hp import from_dataset, to_dataset
from workstation.hanging.library import load_file, save_user_protocol
from workstation.hanging.protocol import Protocol, ProtocolError, Rule, parse_protocol
from workstation.home import Home

FORM_KINDS = ("equals", "contains", "regex", "range", "present", "absent")
BODY_KEYS = ("priors", "displaySets", "stages")


@dataclass
class RuleRow:
    """One matching rule as the form shows it; ``value`` is text (``CR, DX``; ``1..5``; ``T2``)."""

    attribute: str = "ModalitiesInStudy"
    kind: str = "equals"
    value: str = ""
    weight: float = 1.0
    required: bool = False
    negate: bool = False

    @classmethod
    def of(cls, rule: Rule) -> RuleRow:
        c = rule.constraint
        if c is None:  # sameAs rules live in the priors section, not in the form
            raise ValueError("sameAs rules are prior rules")
        if c.kind == "equals":
            value = ", ".join(_plain(v) for v in c.operand)
        elif c.kind == "range":
            lo, hi = c.operand
            value = f"{'' if lo is None else _plain(lo)}..{'' if hi is None else _plain(hi)}"
        elif c.kind in ("present", "absent"):
            value = ""
        else:
            value = str(c.operand)
        return cls(rule.attribute, c.kind, value, rule.weight, rule.required, rule.negate)

    def to_dict(self) -> dict[str, Any]:
        """The rule as a protocol file writes it (checked later, by :func:`parse_protocol`)."""
        out: dict[str, Any] = {"attribute": self.attribute.strip(), "constraint": {self.kind: self._operand()}}
        if self.negate:
            out["not"] = True
        out["weight"] = int(self.weight) if float(self.weight).is_integer() else self.weight
        if self.required:
            out["required"] = True
        return out

    def _operand(self) -> Any:
        text = self.value.strip()
        if self.kind in ("present", "absent"):
            return True
        if self.kind == "equals":
            values = [_typed(v.strip()) for v in text.split(",") if v.strip()] if text else [""]
            return values[0] if len(values) == 1 else values
        if self.kind == "range":
            lo, _, hi = text.partition("..")
            bounds = {}
            for key, part in (("min", lo), ("max", hi)):
                if part.strip():
                    n = as_number(part)
                    bounds[key] = part.strip() if n is None else (int(n) if n.is_integer() else n)
            return bounds
        return text


def _plain(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _typed(text: str) -> Any:
    n = as_number(text)
    if n is None:
        return text
    return int(n) if n.is_integer() else n


@dataclass
class ProtocolDraft:
    """A protocol being edited."""

    id: str = ""
    name: str = ""
    description: str = ""
    default: bool = False
    rules: list[RuleRow] = field(default_factory=list)
    body: str = ""

    @classmethod
    def of(cls, protocol: Protocol) -> ProtocolDraft:
        data = protocol.to_dict()
        body = {k: data[k] for k in BODY_KEYS if k in data}
        return cls(protocol.id, protocol.name, protocol.description, protocol.default,
                   [RuleRow.of(r) for r in protocol.rules],
                   yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110))

    def to_raw(self) -> dict[str, Any]:
        """The draft as a protocol mapping.

        Raises
        ------
        ProtocolError
            The YAML text cannot be read (field ``body``).
        """
        try:
            body = yaml.safe_load(self.body) if self.body.strip() else {}
        except yaml.YAMLError as exc:
            raise ProtocolError("editor", "body", f"not valid YAML: {exc}".replace("\n", " ")) from None
        if not isinstance(body, dict):
            raise ProtocolError("editor", "body", "expected priors, displaySets and stages as a mapping")
        unknown = sorted(set(body) - set(BODY_KEYS))
        if unknown:
            raise ProtocolError("editor", unknown[0], f"edit this in the form, not in the text "
                                                      f"(the text holds {', '.join(BODY_KEYS)})")
        raw: dict[str, Any] = {"id": self.id.strip(), "name": self.name.strip()}
        if self.description.strip():
            raw["description"] = self.description.strip()
        if self.default:
            raw["default"] = True
        raw["rules"] = [r.to_dict() for r in self.rules]
        raw.update(body)
        return raw

    def build(self, source: str = "editor") -> Protocol:
        """Validate the draft into a protocol (:class:`ProtocolError` naming the field)."""
        return parse_protocol(self.to_raw(), source).with_origin("user", source)


def duplicate(protocol: Protocol, taken: set[str]) -> ProtocolDraft:
    """A copy of ``protocol`` under a new id and name, to edit and save as the user's."""
    draft = ProtocolDraft.of(protocol)
    base = f"{protocol.id}-copy"
    new_id, n = base, 2
    while new_id in taken:
        new_id, n = f"{base}-{n}", n + 1
    draft.id, draft.name = new_id, f"{protocol.name} (copy)"
    draft.default = False
    return draft


def export_protocol(protocol: Protocol, path: str | os.PathLike[str]) -> Path:
    """Write a protocol to a file of the user's choice.

    ``.dcm``: a DICOM Hanging Protocol object (:mod:`workstation.hanging.dicom_hp`);
    ``.yaml``/``.yml``: YAML; anything else: JSON.
    """
    path = Path(path)
    if path.suffix.lower() == ".dcm":
        to_dataset(protocol).save_as(path, enforce_file_format=True)
        return path
    data = protocol.to_dict()
    if path.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def read_dicom(path: str | os.PathLike[str]) -> Protocol:
    """A protocol from a DICOM Hanging Protocol file.

    Raises
    ------
    ProtocolError
        Not readable as DICOM, not a Hanging Protocol object, or no valid protocol.
    """
    try:
        ds = pydicom.dcmread(path)
    except (OSError, InvalidDicomError) as exc:
        raise ProtocolError(str(path), "", f"not a readable DICOM file: {exc}") from None
    return from_dataset(ds, str(path))


def import_protocol(home: Home, path: str | os.PathLike[str]) -> Protocol:
    """Validate a protocol file (JSON, YAML, or a DICOM Hanging Protocol ``.dcm``) and save it as the user's.

    Raises
    ------
    ProtocolError
        Naming the file and the field; nothing is saved then.
    """
    protocol = read_dicom(path) if Path(path).suffix.lower() == ".dcm" else load_file(path)
    target = save_user_protocol(home, protocol)
    return protocol.with_origin("user", str(target))
