"""Values that cross Qt's QVariant boundary, converted back to their Python type in one place.

What a widget keeps for us (an action's data, an item's or a combo entry's data) and what a
``Signal(object)`` carries come back from Qt typed ``Any``: nothing checks that the value is what the
reader expects.  Two viewer buttons broke that way.  A :class:`~workstation.imaging.interaction.Tool`
(a ``str`` enum) stored as an action's data comes back as a plain ``str`` — QVariant keeps the string
and drops the enum — and reached code that wanted the member.  Every such read goes through these
functions instead: each names the type it expects, turns an enum's stored value back into its
member, and raises :class:`QVariantTypeError`, naming what was found, for anything else.  ``None``
(an entry without data, an empty row) is returned as ``None`` by the functions that read items,
where having no data is normal; an action's value or a signal's payload is never ``None``.

Functions take the class to check against (``str``, ``int``, ``tuple``, a dataclass, an enum), so
mypy knows what the caller gets.  Parametrised generics cannot be checked at run time: read a
``list[str]`` as ``list`` and check its items where that matters.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QStandardItem
from PySide6.QtWidgets import QComboBox, QListWidgetItem, QTableWidgetItem, QTreeWidgetItem

T = TypeVar("T")

USER_ROLE = Qt.ItemDataRole.UserRole

#: Things whose ``data(role)`` returns what ``setData(…, role)`` stored.
DataItem = QModelIndex | QPersistentModelIndex | QStandardItem | QListWidgetItem | QTableWidgetItem


class QVariantTypeError(TypeError):
    """A value read back from Qt is not of the type its reader expects (a programming error)."""


def _type_name(type_: type[Any]) -> str:
    return getattr(type_, "__qualname__", repr(type_))


def as_type(value: object, type_: type[T], what: str = "value") -> T:
    """``value`` as an instance of ``type_``, or :class:`QVariantTypeError`.

    Parameters
    ----------
    value : object
        What Qt gave back.
    type_ : type
        The class expected.  For an :class:`enum.Enum` class, the member's stored value (QVariant keeps
        a ``str`` enum as its string, an ``int`` enum as its number) is turned back into the member.
    what : str
        Names the value in the error message (e.g. ``"action 'Pan' data"``).

    Returns
    -------
    instance of ``type_``

    Raises
    ------
    QVariantTypeError
        ``value`` is neither an instance of ``type_`` nor, for an enum, one of its values.
    """
    if isinstance(value, type_):
        return value
    if isinstance(type_, type) and issubclass(type_, enum.Enum) and value is not None:
        try:
            member: T = type_(value)
        except ValueError:
            pass
        else:
            return member
    raise QVariantTypeError(f"{what}: expected {_type_name(type_)}, got {type(value).__name__} {value!r:.80}")


def optional(value: object, type_: type[T], what: str = "value") -> T | None:
    """``None`` for ``None``, else :func:`as_type`."""
    return None if value is None else as_type(value, type_, what)


def signal_value(value: object, type_: type[T]) -> T:
    """The payload of a ``Signal(object)`` as ``type_`` (call it first thing in the slot).

    Slots stay bound methods that take ``object`` and convert here: a wrapper function connected
    instead would be a lambda to PySide6, which :mod:`workstation.ui.background` warns against.
    """
    return as_type(value, type_, "signal argument")


def action_value(action: QAction | None, type_: type[T]) -> T:
    """The data of ``action`` (set with ``setData``) as ``type_``; an action without data is an error."""
    if action is None:
        raise QVariantTypeError(f"no action to read a {_type_name(type_)} from")
    return as_type(action.data(), type_, f"data of action {action.text()!r}")


def item_value(item: DataItem | None, type_: type[T], role: int | Qt.ItemDataRole = USER_ROLE) -> T | None:
    """The data of a model index, or of a standard, list or table item, for ``role`` (default ``UserRole``).

    ``None`` when there is no item (an invalid index included) or it holds nothing for ``role``.
    """
    if item is None or (isinstance(item, QModelIndex | QPersistentModelIndex) and not item.isValid()):
        return None
    return optional(item.data(role), type_, f"item data (role {int(role)})")


def tree_value(item: QTreeWidgetItem | None, type_: type[T], column: int = 0,
               role: int | Qt.ItemDataRole = USER_ROLE) -> T | None:
    """The data of a tree item's ``column`` for ``role``; ``None`` without an item or data."""
    if item is None:
        return None
    return optional(item.data(column, role), type_, f"tree item data (column {column}, role {int(role)})")


def combo_value(combo: QComboBox, type_: type[T], index: int | None = None,
                role: int | Qt.ItemDataRole = USER_ROLE) -> T | None:
    """The data of a combo box entry (default: the current one); ``None`` for no entry or an entry without data."""
    i = combo.currentIndex() if index is None else index
    if i < 0:
        return None
    return optional(combo.itemData(i, role), type_, f"data of combo entry {combo.itemText(i)!r}")
