"""Specific Character Set: encode every text value exactly, or refuse.

pydicom encodes a character its Specific Character Set cannot hold as ``?``
with nothing but a warning; in a stored object that destroys a patient's
name, and in a query ``?`` is a wildcard that matches other patients.  Every
object Lightbox writes goes through :func:`encode_dataset`, and every query
identifier through :func:`query_character_set`:

* a value the declared character set cannot encode switches the whole data set
  to UTF-8 (``ISO_IR 192``), re-encoding the values copied from the original
  (pydicom decodes them with the original's character set first);
* the written bytes are read back and every text value compared with what
  was meant, so nothing pydicom might replace goes out unnoticed;
* anything that still cannot be encoded raises :class:`CharsetError`
  before a byte is written or sent.

pydicom's own strict mode (``config.settings.writing_validation_mode =
RAISE``) is process-wide and also turns every value check on assignment
into an exception, for every thread; the strict encoder here
(:func:`encode_strict`) makes the same decision per value without touching
that setting.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pydicom
from pydicom import charset as _pc
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from workstation.dicom import REPLACEMENT_WARNING, refuse_replacement_characters  # noqa: F401 - re-exported

__all__ = [
    "UTF8",
    "TEXT_VRS",
    "CharsetError",
    "python_encodings",
    "encode_strict",
    "can_encode",
    "unencodable",
    "fit_character_set",
    "highdicom_ready",
    "encode_dataset",
    "query_character_set",
    "refuse_replacement_characters",
]

#: The Specific Character Set of UTF-8, what a value any other set cannot hold switches to.
UTF8 = "ISO_IR 192"
#: Value representations whose values the Specific Character Set applies to (PS3.5 6.1.2.3).
TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UC", "UT", "PN"})
_DEFAULT_TERMS = {"", "ISO_IR 6", "ISO 2022 IR 6"}


class CharsetError(ValueError):
    """A value its character set cannot encode: nothing was written or sent (the message names the attribute)."""


def _as_list(charset: Any) -> list[str]:
    if charset is None:
        return [""]
    if isinstance(charset, str):
        return charset.split("\\")
    values = [str(v) for v in charset]
    return values or [""]


def python_encodings(charset: Any) -> list[str]:
    """Python codec names for a Specific Character Set value (``None``/``""``: the default repertoire).

    Raises
    ------
    CharsetError
        A term pydicom does not know.
    """
    terms = _as_list(charset)
    known = set(_pc.python_encoding) | {""}
    unknown = [t for t in terms if t.strip() not in known]
    if unknown:
        raise CharsetError(f"unknown Specific Character Set {', '.join(repr(u) for u in unknown)}")
    return _pc.convert_encodings(terms if len(terms) > 1 else terms[0])


def encode_strict(value: str, charset: Any) -> bytes:
    """Encode ``value`` as pydicom would for ``charset``, raising instead of writing ``?``.

    Follows :func:`pydicom.charset.encode_string`: the first encoding that
    holds the whole value, else (code extensions) value parts switched by
    escape sequences.

    Raises
    ------
    CharsetError
        Some character of ``value`` has no encoding in ``charset`` (the
        message names the characters, never the whole value).
    """
    encodings = python_encodings(charset)
    if _as_list(charset)[0].strip() in _DEFAULT_TERMS:
        # pydicom encodes the default repertoire as Latin-1; it is ASCII (PS3.5 6.1.2.2), so
        # non-ASCII characters must come from the code extensions that follow.
        bad = [ch for ch in value if not ch.isascii() and not _char_fits(ch, encodings[1:])]
        if bad:
            raise CharsetError(f"character(s) {_code_points(bad)} cannot be encoded in {describe(charset)}")
    for i, encoding in enumerate(encodings):
        try:
            encoded = _pc._encode_string_impl(value, encoding)
        except UnicodeError:
            continue
        if i > 0 and encoding not in _pc.handled_encodings:
            encoded = _pc._get_escape_sequence_for_encoding(encoding, encoded=encoded) + encoded
        if encoding in _pc.need_tail_escape_sequence_encodings:
            encoded += _pc._get_escape_sequence_for_encoding(encodings[0])
        return encoded
    if len(encodings) > 1:
        try:
            return _pc._encode_string_parts(value, encodings)
        except (ValueError, UnicodeError):
            pass
    # Code points, not the characters: the message may reach a log, which never holds a name.
    bad = [ch for ch in value if not _char_fits(ch, encodings)]
    raise CharsetError(f"character(s) {_code_points(bad)} cannot be encoded in {describe(charset)}")


def _code_points(chars: Iterable[str]) -> str:
    return " ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(chars))


def _char_fits(ch: str, encodings: Sequence[str]) -> bool:
    for encoding in encodings:
        try:
            _pc._encode_string_impl(ch, encoding)
            return True
        except UnicodeError:
            continue
    return False


def can_encode(value: str, charset: Any) -> bool:
    """True when ``charset`` holds every character of ``value``."""
    try:
        encode_strict(value, charset)
        return True
    except CharsetError:
        return False


def describe(charset: Any) -> str:
    """``ISO_IR 100`` / ``the default repertoire (ASCII)`` / ``ISO 2022 IR 6\\ISO 2022 IR 87``."""
    terms = [t for t in _as_list(charset)]
    if not any(t.strip() for t in terms):
        return "the default character repertoire (ASCII)"
    return "Specific Character Set " + "\\".join(terms)


def _text_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, MultiValue)):
        return [str(v) for v in value if v is not None]
    if isinstance(value, bytes):
        return []
    return [str(value)]


def _walk_text(ds: Dataset, path: str = "") -> Iterator[tuple[str, Dataset, Any]]:
    """(attribute path, the data set holding it, element) of every text element, nested items included."""
    for elem in ds:
        name = elem.keyword or str(elem.tag)
        if elem.VR == "SQ":
            for n, item in enumerate(elem.value or []):
                yield from _walk_text(item, f"{path}{name}[{n}].")
        elif elem.VR in TEXT_VRS:
            yield f"{path}{name}", ds, elem


def unencodable(ds: Dataset, charset: Any = None, _path: str = "") -> list[str]:
    """Attribute paths (``PatientName``, ``ContentSequence[2].TextValue``) whose values cannot be encoded.

    Each value is checked against ``charset`` when given, else against the
    Specific Character Set in force where it sits (a nested item may declare
    its own).  Raw elements must have been converted with the character set
    they were read with, which :func:`fit_character_set` does.
    """
    cs = ds.get("SpecificCharacterSet", "") if charset is None else charset
    out = []
    for elem in ds:
        name = f"{_path}{elem.keyword or elem.tag}"
        if elem.VR == "SQ":
            for n, item in enumerate(elem.value or []):
                inner = charset if charset is not None else item.get("SpecificCharacterSet", cs)
                out += unencodable(item, inner, f"{name}[{n}].")
        elif elem.VR in TEXT_VRS and any(not can_encode(v, cs) for v in _text_values(elem.value)):
            out.append(name)
    return out


def fit_character_set(ds: Dataset) -> str | list[str]:
    """Make ``ds`` declare a Specific Character Set that encodes all its text (in place).

    Every value is converted with the character set it was read with first;
    when one does not fit the declared set, the data set switches to
    ``ISO_IR 192`` (nested items that declare their own set too), so copied
    values are re-encoded in UTF-8 on writing.

    Returns
    -------
    str or list of str
        The Specific Character Set now declared ("" for the default repertoire).

    Raises
    ------
    CharsetError
        A value even UTF-8 cannot hold (an unpaired surrogate), or an unknown
        Specific Character Set term.
    """
    _materialise(ds)
    declared: str | list[str] = ds.get("SpecificCharacterSet", "")  # one term, or a MultiValue of several
    nested_sets = [item for item in _items(ds) if "SpecificCharacterSet" in item]
    if not unencodable(ds):
        return declared
    bad = unencodable(ds, UTF8)
    if bad:
        raise CharsetError(f"{', '.join(bad)}: not encodable even in UTF-8 ({UTF8}); nothing was written")
    ds.SpecificCharacterSet = UTF8
    for item in nested_sets:
        item.SpecificCharacterSet = UTF8
    return UTF8


#: Type 2 study and patient attributes highdicom reads from the images a new GSPS, KOS or note refers to.
HIGHDICOM_READS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyID", "StudyDate",
                   "StudyTime", "ReferringPhysicianName", "AccessionNumber")


def highdicom_ready(ds: Dataset) -> Dataset:
    """``ds``, or a copy that highdicom can build a new object (GSPS, KOS, rejection note) from.

    highdicom copies the images' Specific Character Set into the new object
    and refuses terms it does not list (the empty first value of Japanese and
    Korean code extensions, ``ISO 2022 IR 149``): such a header becomes a
    copy whose values are converted with the original character set and that
    declares ``ISO_IR 192``.  Type 2 attributes highdicom reads but the
    header lacks (:data:`HIGHDICOM_READS`) are added empty.  ``ds`` itself
    is not changed; values are shared, not deep-copied (pixel data too).
    """
    from highdicom.enum import SpecificCharacterSetValues

    value = ds.get("SpecificCharacterSet")
    terms = [str(t) for t in value] if isinstance(value, (list, tuple, MultiValue)) else [str(value or "")]
    accepted = {v.value for v in SpecificCharacterSetValues}
    convert = value is not None and (not all(t in accepted for t in terms) or len(terms) > 1 and "" in terms)
    missing = [k for k in HIGHDICOM_READS if k not in ds]
    if not convert and not missing:
        return ds
    # Its own element table: elements converted with the original character set, then shared.
    # keys(), not the Dataset itself: iterating a Dataset yields (converted) elements, not tags.
    out = Dataset({tag: (ds[tag] if convert else ds.get_item(tag))
                   for tag in ds.keys() if tag != 0x00080005})  # noqa: SIM118 - tags wanted, see above
    if convert:
        out.SpecificCharacterSet = UTF8
    elif value is not None:
        out.SpecificCharacterSet = value
    for keyword in missing:
        setattr(out, keyword, "")
    return out


def _materialise(ds: Dataset) -> None:
    """Convert every raw element, nested items included, with the character set it was read with.

    Not :meth:`Dataset.decode`: that re-decodes a name assigned as ``str``
    through Latin-1 and turns it into ``?`` itself.
    """
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value or []:
                _materialise(item)


def _items(ds: Dataset) -> Iterator[Dataset]:
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value or []:
                yield item
                yield from _items(item)


def _comparable(value: Any) -> list[str]:
    """A text value as it must read back: trailing padding aside, an empty value equal to an absent one."""
    values = [str(value)] if isinstance(value, PersonName) else _text_values(value)
    values = [v.rstrip(" \x00") for v in values]
    return [] if not any(values) else values


def encode_dataset(ds: Dataset) -> bytes:
    """Part 10 bytes of ``ds`` with every text value exactly as given (its file meta completed by pydicom).

    The character set is fitted first (:func:`fit_character_set`, which may
    switch ``ds`` to UTF-8); the bytes are then read back and every text
    value compared with ``ds``.

    Raises
    ------
    CharsetError
        A value that cannot be encoded, or that did not survive the round
        trip (the message names the attributes, not their values).
    """
    fit_character_set(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    wanted = {path: _comparable(elem.value) for path, _h, elem in _walk_text(ds)}
    if all(v.isascii() for values in wanted.values() for v in values):
        return data  # ASCII is the same in every character set: nothing to read back (most objects)
    back = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    got = {path: _comparable(elem.value) for path, _h, elem in _walk_text(back)}
    damaged = [path for path, values in wanted.items() if got.get(path, []) != values]
    if damaged:
        raise CharsetError(f"{', '.join(damaged)} would not be written exactly in "
                           f"{describe(ds.get('SpecificCharacterSet', ''))}; nothing was written")
    return data


def query_character_set(values: Iterable[str], node_charset: str | list[str] | None) -> str | list[str] | None:
    """The Specific Character Set a query identifier holding ``values`` declares for a node.

    Parameters
    ----------
    values : iterable of str
        The text matching keys as they will be sent (wildcards included).
    node_charset : str or list of str
        The node's configured character set (``""`` or None: the default
        repertoire; ``ISO_IR 192``: UTF-8).

    Returns
    -------
    str, list of str or None
        None when every value is plain ASCII (no Specific Character Set
        needed), else the node's character set.

    Raises
    ------
    CharsetError
        A value the node's character set cannot encode: the query must not be
        sent, since the characters would become ``?`` (a wildcard).
    """
    texts = [v for v in values if v]
    if all(v.isascii() for v in texts):
        return None
    for v in texts:
        try:
            encode_strict(v, node_charset)
        except CharsetError as exc:
            raise CharsetError(f"this query cannot be sent to a node using {describe(node_charset)}: {exc} "
                               "(they would be sent as '?', a wildcard matching other patients); "
                               f"set the node's character set to {UTF8} if the archive accepts UTF-8") from None
    return node_charset

