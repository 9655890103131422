"""The tag tree, search, copy and diff: plain functions under the tag browser."""

from __future__ import annotations

import copy

import pydicom
import pytest
from pydicom.data import get_testdata_file

from workstation.qc.tag_diff import ADDED, CHANGED, REMOVED, diff_datasets
from workstation.qc.tags import ELEMENT, ITEM, copy_text, describe, parse_tag, search, tag_tree, walk


@pytest.fixture(scope="module")
def ct_small():
    return pydicom.dcmread(get_testdata_file("CT_small.dcm"))


@pytest.fixture(scope="module")
def rtplan():
    return pydicom.dcmread(get_testdata_file("rtplan.dcm"))


def test_tree_lists_meta_first_then_every_element(ct_small):
    nodes = tag_tree(ct_small)
    assert nodes[0].tag >> 16 == 0x0002
    top = [n for n in nodes if n.tag >> 16 != 0x0002]
    assert [n.tag for n in top] == [int(e.tag) for e in ct_small]
    pixel = next(n for n in nodes if n.keyword == "PixelData")
    assert pixel.value == f"<{len(ct_small.PixelData)} bytes>"


def test_sequences_expand_into_items_and_their_elements(rtplan):
    nodes = tag_tree(rtplan)
    beams = next(n for n in nodes if n.keyword == "BeamSequence")
    assert beams.vr == "SQ"
    assert beams.value == f"{len(rtplan.BeamSequence)} item" + ("s" if len(rtplan.BeamSequence) > 1 else "")
    item = beams.children[0]
    assert item.kind == ITEM and item.name == "Item 1" and item.parent is beams
    cps = next(n for n in item.children if n.keyword == "ControlPointSequence")
    deep = cps.children[0].children[0]
    assert deep.path.startswith("(300A,00B0)[1].(300A,0111)[1].")
    assert [a.tag_text for a in deep.ancestors()][0] == "(300A,00B0)"
    assert sum(1 for _ in walk(nodes)) > len(rtplan)


def test_private_elements_carry_their_creator(ct_small):
    nodes = tag_tree(ct_small)
    creator = next(n for n in nodes if n.tag == 0x00090010)
    assert creator.name == "Private Creator" and creator.value == "GEMS_IDEN_01"
    private = next(n for n in nodes if n.tag == 0x00091001)
    assert private.private_creator == "GEMS_IDEN_01" and private.is_private
    assert private.name == "[Full fidelity]"
    assert "[GEMS_IDEN_01]" in describe(private)


@pytest.mark.parametrize("query", ["(0010,0010)", "0010,0010", "00100010", "(0010, 0010)"])
def test_search_by_tag(ct_small, query):
    found = search(tag_tree(ct_small), query)
    assert [n.keyword for n in found] == ["PatientName"]


def test_search_by_keyword_name_value_and_creator(ct_small):
    nodes = tag_tree(ct_small)
    assert {n.keyword for n in search(nodes, "patientname")} == {"PatientName"}
    assert "PatientName" in {n.keyword for n in search(nodes, "Patient's Name")}
    assert [n.keyword for n in search(nodes, "compressedsamples^ct1")] == ["PatientName"]
    assert all(n.private_creator == "GEMS_PARM_01" or n.full_value == "GEMS_PARM_01"
               for n in search(nodes, "gems_parm"))
    assert len(search(nodes, "gems_parm")) > 10
    assert search(nodes, "   ") == []
    assert search(nodes, "no such thing anywhere") == []


def test_search_reaches_into_sequences(rtplan):
    found = search(tag_tree(rtplan), "ControlPointIndex")
    assert len(found) >= 2 and all("[" in n.path for n in found)


def test_parse_tag():
    assert parse_tag("(7FE0,0010)") == 0x7FE00010
    assert parse_tag("PatientID") == 0x00100020
    assert parse_tag("nonsense words") is None


def test_copy_gives_the_whole_value(ct_small):
    ds = copy.deepcopy(ct_small)
    ds.StudyDescription = "x" * 60
    ds.add_new(0x00204000, "LT", "y" * 500)  # Image Comments: longer than the tree shows
    nodes = tag_tree(ds)
    comments = next(n for n in nodes if n.keyword == "ImageComments")
    assert comments.value.endswith("…") and len(comments.value) < 500
    assert copy_text(comments) == "y" * 500
    assert next(n for n in nodes if n.keyword == "ImageType").full_value == "ORIGINAL\\PRIMARY\\AXIAL"
    item = next(n for n in walk(tag_tree(pydicom.dcmread(get_testdata_file("rtplan.dcm")))) if n.kind == ITEM)
    assert copy_text(item) == item.path and item.kind != ELEMENT


def test_diff_of_two_instances(ct_small, rtplan):
    b = copy.deepcopy(ct_small)
    b.PatientName = "Other^Name"
    del b.PatientID
    b.DerivationDescription = "new"
    b.PixelData = bytes(len(ct_small.PixelData))
    diffs = {d.keyword: d for d in diff_datasets(ct_small, b)}
    assert diffs["PatientName"].status == CHANGED and diffs["PatientName"].right == "Other^Name"
    assert diffs["PatientID"].status == REMOVED and diffs["PatientID"].left == str(ct_small.PatientID)
    assert diffs["DerivationDescription"].status == ADDED
    assert diffs["PixelData"].status == CHANGED and diffs["PixelData"].left != diffs["PixelData"].right
    assert len(diffs) == 4
    assert diff_datasets(ct_small, copy.deepcopy(ct_small)) == []


def test_diff_goes_into_sequence_items(rtplan):
    b = copy.deepcopy(rtplan)
    b.BeamSequence[0].BeamName = "RENAMED"
    diffs = diff_datasets(rtplan, b)
    assert [(d.path, d.right) for d in diffs] == [("(300A,00B0)[1].(300A,00C2)", "RENAMED")]
    assert diffs[0].as_dict()["tag"] == "(300A,00C2)"
