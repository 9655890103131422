"""DICOMweb nodes: QIDO-RS query, WADO-RS retrieve into the cache, STOW-RS send (through dicomweb-client).

A node with ``retrieve="dicomweb"`` and a base ``url`` (e.g.
``http://pacs:8042/dicom-web``) uses these instead of DIMSE.  HTTPS uses the
node's ``tls_ca`` to verify the server and ``tls_cert``/``tls_key`` as the
client certificate.

WADO-RS responses are multipart messages of Part 10 objects; each part is
stored as received, through the cache, exactly like a C-STORE.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.config import Node
from workstation.net.association import Cancel, NetworkError, cancel_check
from workstation.net.find import normalise_level, query_value
from workstation.store.cache import StudyCache

if TYPE_CHECKING:  # retrieve imports this module where it uses it; so does retrieve_dicomweb
    from workstation.net.retrieve import RetrieveProgress, RetrieveReport

log = logging.getLogger(__name__)

_ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'

# QIDO-RS has no patient level: patients come from a study search.
_QIDO_FIELDS = {
    "STUDY": ["PatientName", "PatientID", "PatientBirthDate", "StudyDate", "StudyTime", "AccessionNumber",
              "StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"],
    "SERIES": ["Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances"],
    "IMAGE": ["SOPClassUID", "SOPInstanceUID", "InstanceNumber"],
}


def client_for(node: Node) -> Any:
    """A dicomweb-client for ``node`` (HTTPS verified against the node's CA when set)."""
    import requests
    from dicomweb_client.api import DICOMwebClient

    if not node.url:
        raise NetworkError(f"node {node.name} has no DICOMweb URL — set it with 'lightbox nodes add ... --url URL'")
    session = requests.Session()
    if node.tls_ca:
        session.verify = node.tls_ca
    if node.tls_cert:
        session.cert = (node.tls_cert, node.tls_key) if node.tls_key else node.tls_cert
    client = DICOMwebClient(url=node.url.rstrip("/"), session=session)
    client.set_http_retry_params(retry=False)
    return client


def _http_error(node: Node, exc: Exception) -> NetworkError:
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"TLS handshake with {node.url} failed — the server's certificate is not trusted "
                            "(check the node's CA certificate)")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return NetworkError(f"no DICOMweb service at {node.url} — is the server running and the URL right?")
    if isinstance(exc, requests.exceptions.Timeout):
        return NetworkError(f"no answer from {node.url} within {node.timeout:g} s")
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        hint = {401: " (credentials needed)", 403: " (access refused)", 404: " (check the base URL)"}.get(code, "")
        return NetworkError(f"{node.url} answered HTTP {code}{hint}")
    return NetworkError(f"DICOMweb request to {node.url} failed: {exc}")


def _filters(level: str, keys: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for kw, value in keys.items():
        if level == "STUDY" and kw == "Modality":
            kw = "ModalitiesInStudy"
        converted = query_value(kw, value)
        out[kw] = ",".join(converted) if isinstance(converted, list) else str(converted)
    return {k: v for k, v in out.items() if v != ""}


def qido(node: Node, level: str, keys: Mapping[str, Any] | None = None) -> Iterator[Dataset]:
    """QIDO-RS search; yields identifiers like :func:`workstation.net.find.find` does.

    Raises
    ------
    NetworkError
        While iterating, when the server cannot be reached or refuses.
    """
    lv = normalise_level(level)
    keys = dict(keys or {})
    client = client_for(node)
    filters = _filters("STUDY" if lv == "PATIENT" else lv, keys)
    study = filters.pop("StudyInstanceUID", None)
    series = filters.pop("SeriesInstanceUID", None)
    if lv in ("PATIENT", "STUDY"):
        if study:
            filters["StudyInstanceUID"] = study
        path, fields = "studies", _QIDO_FIELDS["STUDY"]
    elif lv == "SERIES":
        path, fields = (f"studies/{study}/series" if study else "series"), _QIDO_FIELDS["SERIES"]
    else:
        path = (f"studies/{study}/series/{series}/instances" if study and series else
                f"studies/{study}/instances" if study else "instances")
        fields = _QIDO_FIELDS["IMAGE"]
        if series and not study:
            filters["SeriesInstanceUID"] = series
    params = [*filters.items(), *(("includefield", f) for f in fields)]
    # Wildcards stay literal: '*' and '?' are legal in a query string, and some servers
    # (Orthanc's plugin) do not match the percent-encoded forms dicomweb-client would send.
    url = f"{node.url.rstrip('/')}/{path}?{urlencode(params, safe='*?,^')}"
    try:
        found = client._http_get_application_json(url) or []
    except Exception as exc:  # noqa: BLE001 - requests raises many kinds; all become one clear line
        raise _http_error(node, exc) from exc
    seen = set()
    for item in found:
        ds = Dataset.from_json(item)
        if lv == "PATIENT":
            key = str(ds.get("PatientID", ""))
            if key in seen:
                continue
            seen.add(key)
        yield ds


def _inventory(node: Node, study_uid: str, series_uids: Sequence[str]) -> dict[str, list[str]]:
    """{series UID: [SOP Instance UIDs]} from QIDO-RS."""
    out: dict[str, list[str]] = {}
    for ds in qido(node, "IMAGE", {"StudyInstanceUID": study_uid}):
        series = str(ds.get("SeriesInstanceUID", ""))
        if series_uids and series not in series_uids:
            continue
        out.setdefault(series, []).append(str(ds.get("SOPInstanceUID", "")))
    return out


def retrieve_dicomweb(node: Node, cache: StudyCache, study_uid: str, series_uids: Sequence[str] = (), *,
                      progress: Callable[[RetrieveProgress], None] | None = None,
                      cancel: Cancel | None = None) -> RetrieveReport:
    """WADO-RS retrieve of what the cache lacks (a series at a time, or instance by instance).

    Returns
    -------
    workstation.net.retrieve.RetrieveReport
    """
    from workstation.net.retrieve import RetrieveReport
    from workstation.net.retrieve_units import _Tally
    from workstation.net.retrieve_plan import cached_uids
    from workstation.net.storage_scp import store_received

    is_cancelled = cancel_check(cancel)
    started = time.monotonic()
    report = RetrieveReport(node.url, study_uid, "dicomweb")
    inv = _inventory(node, study_uid, series_uids)
    all_uids = [u for uids in inv.values() for u in uids]
    before = cached_uids(cache, all_uids)
    report.expected, report.already_cached = len(all_uids), len(before)
    if not inv:
        report.error = f"{node.url} has no study {study_uid}"
    tally = _Tally(len(all_uids) - len(before), progress)
    tally.expect(0, len(all_uids) - len(before))
    client = client_for(node)
    base = node.url.rstrip("/")
    source = f"WADO-RS from {node.name}"
    try:
        for series, uids in inv.items():
            missing = [u for u in uids if u not in before]
            if not missing or is_cancelled():
                continue
            urls = ([f"{base}/studies/{study_uid}/series/{series}"] if len(missing) == len(uids) else
                    [f"{base}/studies/{study_uid}/series/{series}/instances/{u}" for u in missing])
            for url in urls:
                if is_cancelled():
                    break
                # dicomweb-client's own parsers decode each part; we keep the parts' bytes as received.
                response = client._http_get(url, headers={"Accept": _ACCEPT_DICOM}, stream=True)
                for part in client._decode_multipart_message(response, stream=True):
                    received, _ = store_received(cache, bytes(part), "", source)
                    tally.received_bytes(len(part) if received.status == 0 else 0)
                    if is_cancelled():
                        break
    except NetworkError as exc:
        report.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - network trouble of any kind: report it, keep what arrived
        report.error = str(_http_error(node, exc))
    tally.tick(force=True)
    present = cached_uids(cache, all_uids)
    report.retrieved = len(present - before)
    report.missing = [u for u in all_uids if u not in present]
    report.failed = len(report.missing)
    report.bytes = tally.bytes
    report.cancelled = is_cancelled() and report.failed > 0
    report.elapsed_s = time.monotonic() - started
    return report


def stow(node: Node, paths: Sequence[Path], *, progress: Callable[[int, int], None] | None = None,
         cancel: Cancel | None = None, batch: int = 20) -> list[tuple[str, bool, str]]:
    """STOW-RS the files in batches; one (SOP Instance UID, stored, message) per path, in order."""
    is_cancelled = cancel_check(cancel)
    client = client_for(node)
    out: list[tuple[str, bool, str]] = []
    for start in range(0, len(paths), batch):
        chunk = paths[start:start + batch]
        datasets, uids = [], []
        for p in chunk:
            ds = dcmread(p, force=True)
            datasets.append(ds)
            uids.append(str(ds.get("SOPInstanceUID", "")))
        if is_cancelled():
            out += [(u, False, "not sent: cancelled") for u in uids]
            continue
        try:
            response = client.store_instances(datasets=datasets)
        except Exception as exc:  # noqa: BLE001
            message = f"not stored: {_http_error(node, exc)}"
            out += [(u, False, message) for u in uids]
            continue
        failed = {str(i.get("ReferencedSOPInstanceUID", "")): int(i.get("FailureReason", 0) or 0)
                  for i in (response.get("FailedSOPSequence", []) if response is not None else [])}
        stored = {str(i.get("ReferencedSOPInstanceUID", ""))
                  for i in (response.get("ReferencedSOPSequence", []) if response is not None else [])}
        for u in uids:
            if u in failed:
                out.append((u, False, f"refused by the server (Failure Reason 0x{failed[u]:04X})"))
            elif u in stored or response is None:
                out.append((u, True, "stored"))
            else:
                out.append((u, False, "the server's response did not mention it"))
        if progress is not None:
            progress(len(out), len(paths))
    return out


def test_dicomweb(node: Node) -> Iterator[Any]:
    """``nodes test`` for a DICOMweb node: a QIDO-RS study search, then WADO-RS metadata of one study."""
    from workstation.net.diagnostics import Check

    started = time.monotonic()
    study = ""
    try:
        for ds in qido(node, "STUDY", {}):
            study = str(ds.get("StudyInstanceUID", ""))
            break
        yield Check("QIDO-RS", "ok", "answered a study search" + ("" if study else " (no studies)"),
                    time.monotonic() - started)
    except NetworkError as exc:
        yield Check("QIDO-RS", "failed", str(exc), time.monotonic() - started)
        yield Check("WADO-RS", "skipped", "skipped: the search failed")
        return
    if not study:
        yield Check("WADO-RS", "skipped", "skipped: no study on the server")
        return
    started = time.monotonic()
    try:
        client_for(node).retrieve_study_metadata(study)
        yield Check("WADO-RS", "ok", "returned a study's metadata", time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001
        yield Check("WADO-RS", "failed", str(_http_error(node, exc)), time.monotonic() - started)
