"""Differences between two data sets, element by element and into sequences item by item."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from workstation.qc.tags import BINARY_VRS, _element_name, element_text, format_tag

ADDED = "added"  # only in the second data set
REMOVED = "removed"  # only in the first
CHANGED = "changed"


@dataclass(frozen=True)
class TagDifference:
    """One element that differs.

    Attributes
    ----------
    path : str
        Where, as in :attr:`workstation.qc.tags.TagNode.path`.
    tag : int
    keyword, name : str
    status : {"added", "removed", "changed"}
    left, right : str
        The values as text ("" when absent).
    """

    path: str
    tag: int
    keyword: str
    name: str
    status: str
    left: str
    right: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "tag": format_tag(self.tag), "keyword": self.keyword, "name": self.name,
                "status": self.status, "left": self.left, "right": self.right}


def diff_datasets(a: Dataset, b: Dataset, *, include_meta: bool = True) -> list[TagDifference]:
    """Every element that differs between ``a`` and ``b``.

    Sequences are compared item by item (item ``n`` with item ``n``); binary
    values by content (their text says only the length, so a digest tells
    them apart).

    Parameters
    ----------
    a, b : pydicom.dataset.Dataset
    include_meta : bool
        Compare the File Meta Information too.

    Returns
    -------
    list of TagDifference
        In tag order.
    """
    out: list[TagDifference] = []
    if include_meta:
        _diff(getattr(a, "file_meta", None) or Dataset(), getattr(b, "file_meta", None) or Dataset(), "", out)
    _diff(a, b, "", out)
    return out


def _diff(a: Dataset, b: Dataset, prefix: str, out: list[TagDifference]) -> None:
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        ea: DataElement | None = a.get(tag)  # None where only the other holds the tag
        eb: DataElement | None = b.get(tag)
        elem = ea if ea is not None else eb
        if elem is None:  # never: the tags come from a and b
            continue
        path = f"{prefix}.{format_tag(tag)}" if prefix else format_tag(tag)
        keyword, name = _element_name(elem)
        if ea is None or eb is None:
            status = ADDED if ea is None else REMOVED
            out.append(TagDifference(path, int(tag), keyword, name, status, _text(ea), _text(eb)))
            continue
        if ea.VR == "SQ" and eb.VR == "SQ":
            items_a, items_b = list(ea.value or []), list(eb.value or [])
            if len(items_a) != len(items_b):
                out.append(TagDifference(path, int(tag), keyword, name, CHANGED, _text(ea), _text(eb)))
            for i, (ia, ib) in enumerate(zip(items_a, items_b, strict=False), start=1):
                _diff(ia, ib, f"{path}[{i}]", out)
            continue
        if _comparable(ea) != _comparable(eb):
            out.append(TagDifference(path, int(tag), keyword, name, CHANGED, _text(ea), _text(eb)))


def _text(elem: DataElement | None) -> str:
    if elem is None:
        return ""
    text = element_text(elem)
    if elem.VR in BINARY_VRS or isinstance(elem.value, (bytes, bytearray)):
        value = elem.value or b""
        text += f" sha1 {hashlib.sha1(bytes(value)).hexdigest()[:12]}" if value else ""
    return text


def _comparable(elem: DataElement) -> object:
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return (str(elem.VR), element_text(elem, limit=None))
