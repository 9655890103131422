"""Person names (PN) as people read them, in every script, ordered by their components.

A PN value holds up to three component groups, ``alphabetic=ideographic=phonetic``
(``Yamada^Tarou=山田^太郎=やまだ^たろう``), each of five components
``family^given^middle^prefix^suffix``.  Which groups a site shows is its
choice (:data:`NAME_STYLES`, the ``name_display`` setting); the default shows
the alphabetic group and the ideographic one in parentheses, so a Japanese,
Chinese or Korean name is readable both by staff who read the script and by
those who do not, and a name stored only in an ideographic group is never
shown as empty.

Alphabetic groups read ``Family, Prefix Given Middle, Suffix``; ideographic
and phonetic groups read ``Family Given`` (a space, no comma), as they are
written.  This module is Qt-free: the study list, corner text, banners,
reports and PDFs all use it.
"""

from __future__ import annotations

import os

__all__ = [
    "NAME_STYLES",
    "DEFAULT_NAME_STYLE",
    "format_person_name",
    "name_groups",
    "set_name_style",
    "name_style",
]

#: Which component groups are shown, in which order:
#: ``alphabetic``: the alphabetic group (else the ideographic, else the phonetic);
#: ``alphabetic+ideographic``: alphabetic, then the ideographic group in parentheses (the default);
#: ``ideographic+alphabetic``: ideographic, then alphabetic in parentheses;
#: ``all``: every non-empty group, separated by " = ".
NAME_STYLES = ("alphabetic", "alphabetic+ideographic", "ideographic+alphabetic", "all")
DEFAULT_NAME_STYLE = "alphabetic+ideographic"

_style = os.environ.get("LIGHTBOX_NAME_DISPLAY", "") or DEFAULT_NAME_STYLE
if _style not in NAME_STYLES:
    _style = DEFAULT_NAME_STYLE


def set_name_style(style: str) -> None:
    """Choose how names are shown from now on (one of :data:`NAME_STYLES`; the site's setting).

    Raises
    ------
    ValueError
        An unknown style.
    """
    global _style
    if style not in NAME_STYLES:
        raise ValueError(f"unknown name display {style!r}: one of {', '.join(NAME_STYLES)}")
    _style = style


def name_style() -> str:
    """The style in force."""
    return _style


def name_groups(value: str) -> tuple[str, str, str]:
    """(alphabetic, ideographic, phonetic) component groups of one PN value, each as stored."""
    groups = (str(value or "").split("=") + ["", "", ""])[:3]
    return groups[0], groups[1], groups[2]


def _components(group: str) -> list[str]:
    return ([p.strip() for p in group.split("^")] + [""] * 5)[:5]


def _alphabetic(group: str, upper_family: bool) -> str:
    family, given, middle, prefix, suffix = _components(group)
    if upper_family:
        family = family.upper()
    first = " ".join(p for p in (prefix, given, middle) if p)
    text = ", ".join(p for p in (family, first) if p)
    if suffix:
        text = f"{text}, {suffix}" if text else suffix
    return text


def _ideographic(group: str) -> str:
    family, given, middle, prefix, suffix = _components(group)
    return " ".join(p for p in (prefix, family, given, middle, suffix) if p)


def _one(value: str, style: str, upper_family: bool) -> str:
    alpha, ideo, phon = name_groups(value)
    a = _alphabetic(alpha, upper_family)
    i = _ideographic(ideo)
    p = _ideographic(phon)
    if style == "all":
        return " = ".join(t for t in (a, i, p) if t)
    if style == "alphabetic":
        return a or i or p
    first, second = (a, i) if style == "alphabetic+ideographic" else (i, a)
    if not first:
        first, second = second, ""
    if not first:
        return p
    return f"{first} ({second})" if second and second != first else first


def format_person_name(pn: object, *, style: str | None = None, upper_family: bool = False) -> str:
    """A PN value as a person reads it.

    Parameters
    ----------
    pn : str or pydicom.valuerep.PersonName
        The value as stored; several names are separated by ``\\``.
    style : str, optional
        One of :data:`NAME_STYLES` (default: the site's, :func:`name_style`).
    upper_family : bool
        Write the alphabetic family name in capitals (corner text does, so the
        family name stands out).

    Returns
    -------
    str
        E.g. ``Yamada, Tarou (山田 太郎)``, ``Müller, Anna``, ``김희중``; names
        joined by ``"; "``; empty when the value holds no name at all.

    Examples
    --------
    >>> format_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう")
    'Yamada, Tarou (山田 太郎)'
    >>> format_person_name("=山田^太郎")
    '山田 太郎'
    """
    chosen = style or _style
    if chosen not in NAME_STYLES:
        raise ValueError(f"unknown name display {chosen!r}: one of {', '.join(NAME_STYLES)}")
    names = [_one(v, chosen, upper_family) for v in str(pn if pn is not None else "").split("\\")]
    return "; ".join(n for n in names if n)
