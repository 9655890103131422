"""Strict character-set encoding: every value written exactly, UTF-8 when needed, never a '?'."""

from __future__ import annotations

import io
import warnings

import pydicom
import pytest
from pydicom.data import get_charset_files
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from workstation.dicom.charset import (
    UTF8,
    CharsetError,
    can_encode,
    encode_dataset,
    encode_strict,
    fit_character_set,
    query_character_set,
    unencodable,
)

#: One name per script, to correct each charset file's patient to a name in another script.
NAMES = ["Διονυσιος", "김희중", "山田^太郎=やまだ^たろう", "Buc^Jérôme", "שרון^דבורה", "Люкceмбypг", "قباني^لنزار",
         "Wang^XiaoDong=王^小东", "Doe^John"]


def _named_files():
    return [f for f in sorted(get_charset_files("chr*.dcm")) if "PatientName" in pydicom.dcmread(f)]


@pytest.mark.parametrize("charset,value,ok", [
    ("ISO_IR 100", "Buc^Jérôme", True),
    ("ISO_IR 100", "Διονυσιος", False),
    ("", "Buc^Jérôme", False),  # the default repertoire is ASCII, not Latin-1
    ("ISO_IR 6", "Doe^John", True),
    (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう", True),
    (["", "ISO 2022 IR 87"], "Jérôme", False),
    (["ISO 2022 IR 13", "ISO 2022 IR 87"], "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎", True),
    (["", "ISO 2022 IR 149"], "김희중", True),
    ("GB18030", "王^小东", True),
    ("ISO_IR 192", "\ud800", False),  # an unpaired surrogate: no encoding holds it
])
def test_can_encode(charset, value, ok):
    assert can_encode(value, charset) is ok


def test_refusal_names_code_points_not_the_value():
    with pytest.raises(CharsetError) as err:
        encode_strict("Διονυσιος", "ISO_IR 100")
    assert "U+0394" in str(err.value) and "Δ" not in str(err.value)


@pytest.mark.parametrize("path", _named_files(), ids=lambda p: p.split("/")[-1])
@pytest.mark.parametrize("new", NAMES)
def test_every_charset_file_takes_every_name_exactly(path, new):
    ds = pydicom.dcmread(path)
    before = {e.tag: str(e.value) for e in ds if e.VR in ("PN", "LO", "SH", "ST", "LT") and e.keyword != "PatientName"}
    ds.PatientName = new
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydicom's '?' fallback warns: that must not happen
        data = encode_dataset(ds)
    back = pydicom.dcmread(io.BytesIO(data))
    assert str(back.PatientName) == new
    assert b"??" not in data
    # Copied values survive a switch to UTF-8 (re-encoded from the original's character set).
    assert {k: str(back[k].value) for k in before} == before
    if not can_encode(new, pydicom.dcmread(path).SpecificCharacterSet):
        assert back.SpecificCharacterSet == UTF8


def test_nested_items_are_refitted_too():
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    item = Dataset()
    item.SpecificCharacterSet = "ISO_IR 100"
    item.TextValue = "Ελληνικά"
    ds.ContentSequence = Sequence([item])
    assert unencodable(ds) == ["ContentSequence[0].TextValue"] and unencodable(item) == ["TextValue"]
    assert fit_character_set(ds) == UTF8 and item.SpecificCharacterSet == UTF8


def test_a_fitting_value_keeps_the_character_set():
    ds = pydicom.dcmread(get_charset_files("chrH31.dcm")[0])
    ds.PatientName = "Suzuki^Ichiro=鈴木^一郎"
    assert fit_character_set(ds) == ["", "ISO 2022 IR 87"]


@pytest.mark.parametrize("node,values,expected", [
    ("ISO_IR 100", ["Buc*"], None),
    ("ISO_IR 100", ["Buc^J*"], None),
    ("ISO_IR 100", ["Jérôme*"], "ISO_IR 100"),
    ("ISO_IR 192", ["Διονυσιος"], "ISO_IR 192"),
    ("ISO 2022 IR 6\\ISO 2022 IR 87", ["山田*"], "ISO 2022 IR 6\\ISO 2022 IR 87"),
])
def test_query_character_set(node, values, expected):
    assert query_character_set(values, node) == expected


@pytest.mark.parametrize("node", ["ISO_IR 100", "", "ISO_IR 6"])
def test_query_key_the_node_cannot_encode_is_refused(node):
    with pytest.raises(CharsetError, match="wildcard"):
        query_character_set(["Διονυσιος"], node)


def test_pydicoms_replacement_fallback_is_an_error_for_any_writer():
    """A write that bypasses encode_dataset still cannot put '?' into a file."""
    from workstation.dicom.charset import refuse_replacement_characters

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Διονυσιος"
    with warnings.catch_warnings():
        refuse_replacement_characters()  # what importing workstation.dicom does (pytest resets filters per test)
        with pytest.raises(UserWarning, match="Failed to encode"):
            ds.save_as(io.BytesIO(), implicit_vr=True, little_endian=True)
