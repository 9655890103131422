"""The tag browser's tree shows every text value of pydicom's charset files decoded, nested items included."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_charset_files

from workstation.qc.tags import tag_tree, walk


@pytest.mark.parametrize("path", sorted(get_charset_files("chr*.dcm")), ids=lambda p: p.split("/")[-1])
def test_names_decoded_exactly(path):
    ds = pydicom.dcmread(path)
    shown = {n.tag_text: n.value for n in walk(tag_tree(ds)) if n.vr == "PN"}
    for node in walk(tag_tree(ds)):
        if node.vr in ("PN", "LO", "SH", "ST", "LT", "UT"):
            assert "\ufffd" not in node.value and "\x1b" not in node.value  # no replacement, no raw escapes
    if "PatientName" in ds:
        assert shown["(0010,0010)"] == str(ds.PatientName)
