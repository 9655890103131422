"""docs/conformance.md stays true: its tables are compared with what the network code registers."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import pytest
from pynetdicom.sop_class import StorageCommitmentPushModel, Verification

from workstation.config import Node, Settings
from workstation.home import Home
from workstation.net import association, commitment, find, mwl, retrieve_units, send, storage_scp
from workstation.store.cache import StudyCache

DOC = Path(__file__).resolve().parents[1] / "docs" / "conformance.md"
UID_CELL = re.compile(r"`([0-9.]+)`")


def section(title: str) -> str:
    """The text of the section whose heading starts with ``title`` (up to the next heading)."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(title)}.*?$(.*?)(?=^#)", text + "\n#", re.M | re.S)
    assert match, f"no section {title!r} in {DOC.name}"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.lstrip().startswith("|")]
    return [r for r in rows[2:]]  # header and separator


def uids(text: str) -> list[str]:
    return [m for row in table_rows(text) for cell in row for m in UID_CELL.findall(cell)]


@pytest.fixture
def scp_ae(lightbox_home):
    cache = StudyCache.open(Home.single(lightbox_home))
    scp = storage_scp.StorageSCP(cache, Settings(), inbox=commitment.CommitmentInbox(lightbox_home))
    yield scp._make_ae()
    cache.close()


def _storage_contexts(ae):
    return [cx for cx in ae.supported_contexts
            if cx.abstract_syntax not in (Verification, StorageCommitmentPushModel)]


def test_storage_sop_classes_as_scp(scp_ae):
    documented = uids(section("3.1 Storage SOP Classes"))
    assert len(documented) == len(set(documented)), "a SOP class is listed twice"
    assert set(documented) == {str(cx.abstract_syntax) for cx in _storage_contexts(scp_ae)}


def test_scp_transfer_syntaxes_in_order(scp_ae):
    documented = uids(section("3.2 Transfer syntaxes accepted"))
    assert documented == [str(t) for t in storage_scp.ACCEPTED_TRANSFER_SYNTAXES]
    for cx in _storage_contexts(scp_ae):
        assert [str(t) for t in cx.transfer_syntax] == documented


def test_scu_transfer_syntaxes():
    assert uids(section("3.3 Transfer syntaxes proposed")) == [str(t) for t in send.UNCOMPRESSED]


def test_overview_names_what_is_registered(scp_ae):
    rows = {UID_CELL.findall(r[2])[0]: (r[3], r[4])
            for r in table_rows(section("1. Overview")) if UID_CELL.findall(r[2])}
    scu = {uid for uid, (as_scu, _) in rows.items() if as_scu == "Yes"}
    scp = {uid for uid, (_, as_scp) in rows.items() if as_scp == "Yes"}
    code_scu = {Verification, StorageCommitmentPushModel,
                find.PatientRootQueryRetrieveInformationModelFind, find.StudyRootQueryRetrieveInformationModelFind,
                retrieve_units.PatientRootQueryRetrieveInformationModelMove,
                retrieve_units.StudyRootQueryRetrieveInformationModelMove,
                retrieve_units.PatientRootQueryRetrieveInformationModelGet,
                retrieve_units.StudyRootQueryRetrieveInformationModelGet,
                mwl.MWL_FIND}
    assert scu == {str(u) for u in code_scu}
    non_storage = {str(cx.abstract_syntax) for cx in scp_ae.supported_contexts} - {
        str(cx.abstract_syntax) for cx in _storage_contexts(scp_ae)}
    assert scp == {str(Verification)}
    # The commitment context is registered for its report only (SCU role for N-EVENT-REPORT).
    assert non_storage == {str(Verification), str(StorageCommitmentPushModel)}


def test_association_policies(scp_ae):
    policy = {r[0]: r[1] for r in table_rows(section("2.1 Association policies"))}
    assert policy["Maximum PDU size received"].endswith(f"({scp_ae.maximum_pdu_size})")
    assert int(policy["Maximum simultaneous associations accepted (SCP)"]) == scp_ae.maximum_associations
    assert int(policy["Maximum presentation contexts proposed per association (SCU)"]) == association.MAX_CONTEXTS
    assert int(policy["ARTIM / ACSE timeout, SCP (s)"]) == scp_ae.acse_timeout
    assert int(policy["DIMSE timeout, SCP (s)"]) == scp_ae.dimse_timeout
    assert int(policy["Network idle timeout, SCP (s)"]) == scp_ae.network_timeout
    node = Node(name="X", ae_title="X", host="h", port=104)
    assert f"default {node.timeout:g} s" in policy["Timeouts as SCU"]
    assert f"default {node.max_associations}" in policy["Associations in parallel per remote node as SCU"]


def test_character_sets():
    rows = {r[0]: r[1].strip("`") for r in table_rows(section("6. Character sets"))}
    assert rows["Default for queries (per node `charset`)"] == Node(name="X", ae_title="X", host="h", port=1).charset
    sr_build = (Path(find.__file__).parents[1] / "reporting" / "sr_build.py").read_text(encoding="utf-8")
    assert f'SpecificCharacterSet = "{rows["Objects created (reports, presentation states, key objects)"]}"' in sr_build


def test_tls_claim():
    assert "TLS 1.2 or newer" in section("7. Security profiles")
    assert ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).minimum_version >= ssl.TLSVersion.TLSv1_2
