"""The full data set of an instance as a tree of plain records, and search in it.

The tag browser shows what :func:`tag_tree` returns and asks :func:`search`
which nodes match; neither knows about Qt.  A sequence's node holds one node
per item, an item's node holds the item's elements, so the tree can be as deep
as the data set.  Private elements carry their Private Creator, and their name
comes from pydicom's private dictionary when it knows the creator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Iterator

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

#: Value representations whose values are bytes, shown as a length rather than printed.
BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN", "OB or OW", "US or OW"})
#: Characters of a value shown in the tree; the whole value is what :func:`copy_text` gives.
DISPLAY_LIMIT = 160

ELEMENT = "element"
ITEM = "item"


@dataclass(eq=False)
class TagNode:
    """One row of the tag tree: a data element, or one item of a sequence.

    Attributes
    ----------
    kind : {"element", "item"}
    tag : int or None
        The element's tag (None for an item).
    keyword, name : str
        The standard's keyword and name; for a private element the name from
        the private dictionary in brackets, else "Private tag data".
    vr : str
    value : str
        The value as shown (binary values as a byte count, long text cut).
    full_value : str
        The whole value as text (what "copy value" copies).
    private_creator : str
        The Private Creator of a private element.
    path : str
        Where the node is, e.g. ``(0040,A730)[2].(0008,1199)[1].(0008,1155)``.
    children : list of TagNode
    """

    kind: str
    tag: int | None
    keyword: str
    name: str
    vr: str
    value: str
    full_value: str
    path: str
    private_creator: str = ""
    children: list[TagNode] = field(default_factory=list)
    parent: TagNode | None = field(default=None, repr=False)

    @property
    def tag_text(self) -> str:
        """``(gggg,eeee)``, or ``Item n`` for an item."""
        return format_tag(self.tag) if self.tag is not None else self.name

    @property
    def is_private(self) -> bool:
        return self.tag is not None and bool(BaseTag(self.tag).is_private)

    def walk(self) -> Iterator[TagNode]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestors(self) -> list[TagNode]:
        """The nodes above this one, outermost first."""
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]


def format_tag(tag: int) -> str:
    t = BaseTag(tag)
    return f"({t.group:04X},{t.element:04X})"


def element_text(elem: DataElement, limit: int | None = DISPLAY_LIMIT) -> str:
    """An element's value as text: bytes as a length, several values joined by ``\\``."""
    if elem.VR == "SQ":
        n = len(elem.value or [])
        return f"{n} item" + ("" if n == 1 else "s")
    value = elem.value
    if value is None or value == "" or value == b"":
        return ""
    if elem.VR in BINARY_VRS or isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if elem.VM > 1 or isinstance(value, (list, tuple)):
        text = "\\".join(_scalar_text(v) for v in value)
    else:
        text = _scalar_text(value)
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def _scalar_text(value: object) -> str:
    if isinstance(value, BaseTag):
        return format_tag(value)
    return str(value)


def _element_name(elem: DataElement) -> tuple[str, str]:
    """(keyword, name) of an element, public or private."""
    if elem.tag.is_private:
        if elem.tag.is_private_creator:
            return "", "Private Creator"
        name = elem.name if elem.private_creator and not elem.name.startswith("Private tag") else "Private tag data"
        return "", name
    return elem.keyword, elem.name


def tag_tree(ds: Dataset, *, include_meta: bool = True) -> list[TagNode]:
    """The data set as a list of top-level nodes (File Meta Information first).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A data set read with or without its pixel data.
    include_meta : bool
        Add the group 0002 elements of ``ds.file_meta`` first.

    Returns
    -------
    list of TagNode
    """
    nodes: list[TagNode] = []
    meta = getattr(ds, "file_meta", None)
    if include_meta and meta is not None:
        nodes.extend(_element_nodes(meta, "", None))
    nodes.extend(_element_nodes(ds, "", None))
    return nodes


def _element_nodes(ds: Dataset, prefix: str, parent: TagNode | None) -> list[TagNode]:
    out = []
    for elem in ds:  # iterating sets private_creator on private elements
        keyword, name = _element_name(elem)
        path = f"{prefix}.{format_tag(elem.tag)}" if prefix else format_tag(elem.tag)
        node = TagNode(
            kind=ELEMENT, tag=int(elem.tag), keyword=keyword, name=name, vr=str(elem.VR),
            value=element_text(elem), full_value=element_text(elem, limit=None), path=path,
            private_creator=str(elem.private_creator or "") if elem.tag.is_private else "", parent=parent,
        )
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or [], start=1):
                item_path = f"{path}[{i}]"
                item_node = TagNode(ITEM, None, "", f"Item {i}", "", f"{len(item)} elements", "", item_path,
                                    parent=node)
                item_node.children = _element_nodes(item, item_path, item_node)
                node.children.append(item_node)
        out.append(node)
    return out


def walk(nodes: list[TagNode]) -> Iterator[TagNode]:
    """Every node of a tree, depth first."""
    for node in nodes:
        yield from node.walk()


_TAG_RE = re.compile(r"^\(?\s*([0-9a-fA-F]{4})\s*[, ]?\s*([0-9a-fA-F]{4})\s*\)?$")


def parse_tag(text: str) -> int | None:
    """``(0010,0010)``, ``0010,0010``, ``00100010`` or a keyword as a tag; None if it is none of them."""
    text = text.strip()
    m = _TAG_RE.match(text)
    if m:
        return int(m.group(1) + m.group(2), 16)
    try:
        return int(Tag(text)) if text.isidentifier() else None
    except (ValueError, TypeError):
        return None


def search(nodes: list[TagNode], query: str) -> list[TagNode]:
    """Nodes whose tag, keyword, name, private creator or value matches ``query``.

    A query that reads as a tag (``(0010,0010)``, ``0010,0010``, ``00100010``)
    matches that tag exactly; otherwise the text is looked for, ignoring case,
    in the keyword, the name, the Private Creator and the whole value.

    Parameters
    ----------
    nodes : list of TagNode
        From :func:`tag_tree`.
    query : str

    Returns
    -------
    list of TagNode
        Matches in tree order (items never match; their elements do).
    """
    query = query.strip()
    if not query:
        return []
    tag = parse_tag(query) if not query.isidentifier() else None
    if tag is not None:
        return [n for n in walk(nodes) if n.tag == tag]
    needle = query.casefold()
    return [
        n for n in walk(nodes)
        if n.kind == ELEMENT and (
            needle in n.keyword.casefold() or needle in n.name.casefold()
            or needle in n.private_creator.casefold() or needle in n.full_value.casefold()
        )
    ]


def copy_text(node: TagNode) -> str:
    """What "copy value" puts on the clipboard: the whole value (an item: its path)."""
    return node.full_value if node.kind == ELEMENT else node.path


def describe(node: TagNode) -> str:
    """One line: tag, name, VR and value (what "copy row" copies)."""
    if node.kind == ITEM:
        return f"{node.path} {node.name}"
    creator = f" [{node.private_creator}]" if node.private_creator else ""
    return f"{node.tag_text} {node.name}{creator} {node.vr}: {node.full_value}"
