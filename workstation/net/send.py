"""C-STORE SCU: send files to a node over one association, one outcome per instance.

Presentation contexts come from the files themselves: for every SOP class,
one context per non-uncompressed transfer syntax the files use (so a JPEG
file can go as it is) plus one context offering Explicit and Implicit VR
Little Endian.  When the peer takes a SOP class only uncompressed, a
compressed file is decompressed before it is sent (same SOP Instance UID:
a transfer syntax is an encoding, not a new instance).

A store counts as done only when the peer answered Success or Warning;
anything else (a failure status, no answer, not sent at all) is a failed
outcome with the reason in plain words.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_file_meta_info
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS

from workstation.config import Node
from workstation.dicom.pixels import decode_pixels
from workstation.net.association import (
    MAX_CONTEXTS,
    Cancel,
    Peer,
    associate,
    cancel_check,
    peer_of,
    status_category,
)

log = logging.getLogger(__name__)

UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoreOutcome:
    """What happened to one file.

    Attributes
    ----------
    path : Path
        The file.
    sop_instance_uid : str
        Its SOP Instance UID ("" when the file could not be read).
    status : int or None
        The C-STORE response status; None when no response came or nothing was sent.
    ok : bool
        True only for a Success or Warning response.
    message : str
        Plain words: what the peer said, or why the file was not sent.
    """

    path: Path
    sop_instance_uid: str
    status: int | None
    ok: bool
    message: str


@dataclass
class SendReport:
    """Outcomes of :func:`send_files`, in the order of the paths given."""

    peer: str
    outcomes: list[StoreOutcome] = field(default_factory=list)
    elapsed_s: float = 0.0
    cancelled: bool = False
    error: str = ""  # an association-level problem that stopped the sending

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)

    @property
    def ok(self) -> bool:
        """True when every file was stored and nothing was cancelled."""
        return not self.error and not self.cancelled and all(o.ok for o in self.outcomes)

    def summary(self) -> str:
        text = f"{self.sent} of {len(self.outcomes)} stored on {self.peer} in {self.elapsed_s:.1f} s"
        if self.cancelled:
            text += " (cancelled)"
        if self.error:
            text += f" — {self.error}"
        return text


@dataclass(frozen=True)
class _Item:
    path: Path
    sop_class: str
    sop_instance: str
    transfer_syntax: UID




def inspect_file(path: Path) -> _Item:
    """SOP class, SOP instance and transfer syntax of a Part 10 file (reads the header only)."""
    try:
        meta = read_file_meta_info(path)
        sop_class = meta.get("MediaStorageSOPClassUID")
        sop_instance = meta.get("MediaStorageSOPInstanceUID")
        ts = meta.get("TransferSyntaxUID")
    except InvalidDicomError:
        sop_class = sop_instance = ts = None
    if not (sop_class and sop_instance and ts):
        # No (complete) file meta: read the dataset's own UIDs.
        ds = dcmread(path, stop_before_pixels=True, force=True)
        sop_class = ds.get("SOPClassUID")
        sop_instance = ds.get("SOPInstanceUID")
        ts = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
        if ts is None and ds.original_encoding[0] is not None:
            implicit, little = ds.original_encoding
            ts = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else None
    if not (sop_class and sop_instance and ts):
        raise InvalidDicomError("no SOP Class UID, SOP Instance UID or transfer syntax")
    return _Item(Path(path), str(sop_class), str(sop_instance), UID(str(ts)))


def plan_contexts(items: Sequence[_Item]) -> list[PresentationContext]:
    """Presentation contexts for ``items``: own transfer syntaxes first, then uncompressed per SOP class.

    When more than 128 would be needed, the files' own transfer syntaxes are
    dropped first (compressed files are then decompressed); SOP classes that
    still do not fit get no context and their files fail as not sent.
    """
    classes: dict[str, set[UID]] = {}
    for it in items:
        classes.setdefault(it.sop_class, set()).add(it.transfer_syntax)
    base = [build_context(sc, list(UNCOMPRESSED)) for sc in classes]
    extra = [
        build_context(sc, [ts])
        for sc, syntaxes in classes.items()
        for ts in sorted(syntaxes)
        if ts not in UNCOMPRESSED
    ]
    if len(base) >= MAX_CONTEXTS:
        return base[:MAX_CONTEXTS]
    return extra[: MAX_CONTEXTS - len(base)] + base


def _route(ds_ts: UID, sop_class: str, accepted: dict[str, list[UID]]) -> str | None:
    """How to send: "as-is", "decompress", or None when no accepted context fits."""
    syntaxes = accepted.get(sop_class, [])
    if ds_ts in syntaxes:
        return "as-is"
    if not ds_ts.is_compressed:
        # pynetdicom converts implicit <-> explicit and deflated <-> inflated, same endianness.
        if any(not ts.is_compressed and ts.is_little_endian == ds_ts.is_little_endian for ts in syntaxes):
            return "as-is"
        return None
    if any(ts in UNCOMPRESSED for ts in syntaxes):
        return "decompress"
    return None


def _encapsulated(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and bytes(value[:4]) == b"\xfe\xff\x00\xe0"


def _to_native(ds: Dataset, ts: UID, what: str) -> str | None:
    """Replace the encapsulated Pixel Data of ``ds`` (a data set or a sequence item) by native pixels.

    Decoded with Lightbox's own decoder (header checks first, GDCM only in a
    child process); returns why it cannot be, else None.
    """
    own_meta = getattr(ds, "file_meta", None) is None or "TransferSyntaxUID" not in ds.file_meta
    if own_meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ts
    try:
        result = decode_pixels(ds)
    finally:
        if own_meta:
            del ds.file_meta
    array = result.array
    if array is None or not result.ok:
        return f"its {what} cannot be decompressed ({result.error})"
    ds.PixelData = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    ds["PixelData"].VR = "OB" if array.dtype.itemsize == 1 else "OW"
    ds["PixelData"].is_undefined_length = False
    ds.BitsAllocated = array.dtype.itemsize * 8
    if result.photometric_interpretation:
        # Decoded chroma is full resolution: native YBR_FULL_422 would mean subsampled bytes.
        pi = result.photometric_interpretation
        ds.PhotometricInterpretation = "YBR_FULL" if pi == "YBR_FULL_422" else pi
    if int(ds.get("SamplesPerPixel", 1) or 1) > 1:
        ds.PlanarConfiguration = 0  # decoded pixels are interleaved
    if UID(ts) in _LOSSY_SYNTAXES:
        ds.LossyImageCompression = "01"
    return None


#: Transfer syntaxes whose decompressed pixels must keep "lossy compression" said.
_LOSSY_SYNTAXES = {UID("1.2.840.10008.1.2.4.50"), UID("1.2.840.10008.1.2.4.51"), UID("1.2.840.10008.1.2.4.81"),
                   UID("1.2.840.10008.1.2.4.91"), UID("1.2.840.10008.1.2.4.203")}


def decompress_whole(ds: Dataset, ts: UID) -> str | None:
    """Make every pixel data in ``ds`` native: the image, its icon and any other item holding one.

    A data set whose top level is decompressed but whose Icon Image Sequence
    stays encapsulated is invalid in an uncompressed transfer syntax (archives
    refuse it as 0xA700 or worse).  Returns why it cannot be done (then nothing
    is sent), else None; ``ds`` is then in Explicit VR Little Endian.
    """
    if _encapsulated(ds.get("PixelData", None)):
        problem = _to_native(ds, ts, "image")
        if problem:
            return problem
    nested: list[tuple[Dataset, str]] = []

    def visit(item: Dataset, path: str) -> None:
        for element in item:
            if element.VR == "SQ":
                for number, child in enumerate(element.value, 1):
                    where = f"{path}{element.name} item {number}"
                    if "PixelData" in child and _encapsulated(child["PixelData"].value):
                        nested.append((child, where))
                    visit(child, where + " > ")

    visit(ds, "")
    for child, where in nested:
        problem = _to_native(child, ts, where)
        if problem:
            return problem
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return None


def _status_message(code: int) -> str:
    category, text = STORAGE_SERVICE_CLASS_STATUS.get(code, (status_category(code), ""))
    return f"{category} 0x{code:04X}" + (f": {text}" if text else "")


def _store_one(
    assoc: Association, peer: Peer, item: _Item, accepted: dict[str, list[UID]], msg_id: int
) -> StoreOutcome:
    def failed(message: str, uid: str = item.sop_instance, status: int | None = None) -> StoreOutcome:
        return StoreOutcome(item.path, uid, status, False, message)

    try:
        ds: Dataset = dcmread(item.path, force=True)
    except (OSError, InvalidDicomError, ValueError) as exc:
        return failed(f"not sent: cannot read the file ({exc})")
    uid = str(ds.get("SOPInstanceUID", item.sop_instance))
    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", item.transfer_syntax)))
    ds.file_meta.TransferSyntaxUID = ts
    route = _route(ts, item.sop_class, accepted)
    if route is None:
        return failed(
            f"not sent: {peer.describe()} did not accept {UID(item.sop_class).name or item.sop_class} "
            f"as {ts.name or ts} or uncompressed",
            uid,
        )
    if route == "decompress":
        problem = decompress_whole(ds, ts)
        if problem:
            return failed(f"not sent: the archive takes it only uncompressed and {problem}", uid)
    try:
        rsp = assoc.send_c_store(ds, msg_id=msg_id)
    except (ValueError, AttributeError) as exc:
        return failed(f"not sent: {exc}", uid)
    if "Status" not in rsp:
        what = "aborted the association" if assoc.is_aborted else f"did not answer within {assoc.dimse_timeout:g} s"
        return failed(f"no C-STORE response: {peer.describe()} {what}", uid)
    code = int(rsp.Status)
    category = status_category(code)
    ok = category in ("Success", "Warning")
    message = "stored" if code == 0 else _status_message(code)
    if "ErrorComment" in rsp and rsp.ErrorComment:
        message += f" ({rsp.ErrorComment})"
    return StoreOutcome(item.path, uid, code, ok, message)


def send_files(
    paths: Iterable[str | os.PathLike[str]],
    node: Node | Peer,
    calling_ae: str,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> SendReport:
    """Send DICOM files to ``node`` with C-STORE over one association.

    Parameters
    ----------
    paths : iterable of path-like
        Part 10 files.
    node : Node or Peer
        The storage SCP.
    calling_ae : str
        Our AE title.
    progress : callable(done, total), optional
        Called after each file.
    cancel : callable returning bool, or threading.Event, optional
        Checked before each file; remaining files are reported as not sent.

    Returns
    -------
    SendReport
        One outcome per path, in order.  Trouble during the association
        (abort, timeout) is in ``report.error`` and the outcomes.

    Raises
    ------
    NetworkError
        When no association could be established (nothing was sent).
    """
    peer = peer_of(node)
    is_cancelled = cancel_check(cancel)
    started = time.monotonic()
    report = SendReport(peer=peer.describe())
    slots: list[StoreOutcome | _Item] = []
    for p in (Path(raw) for raw in paths):
        try:
            slots.append(inspect_file(p))
        except (OSError, InvalidDicomError, ValueError) as exc:
            slots.append(StoreOutcome(p, "", None, False, f"not sent: not a readable DICOM file ({exc})"))
    items = [s for s in slots if isinstance(s, _Item)]
    total, done = len(slots), 0

    def tick() -> None:
        if progress is not None:
            progress(done, total)

    if items and not is_cancelled():
        with associate(peer, calling_ae, plan_contexts(items)) as assoc:
            accepted: dict[str, list[UID]] = {}
            for cx in assoc.accepted_contexts:
                accepted.setdefault(str(cx.abstract_syntax), []).append(UID(cx.transfer_syntax[0]))
            msg_id = 0
            for i, slot in enumerate(slots):
                if isinstance(slot, _Item):
                    if is_cancelled():
                        report.cancelled = True
                    elif not assoc.is_established and not report.error:
                        report.error = f"the association with {peer.describe()} ended early"
                    if report.cancelled or report.error:
                        why = "not sent: cancelled" if report.cancelled else f"not sent: {report.error}"
                        slots[i] = StoreOutcome(slot.path, slot.sop_instance, None, False, why)
                    else:
                        msg_id = msg_id % 65535 + 1
                        outcome = _store_one(assoc, peer, slot, accepted, msg_id)
                        slots[i] = outcome
                        if outcome.status is None and not assoc.is_established:
                            report.error = outcome.message
                done += 1
                tick()
    else:
        report.cancelled = bool(items)
        for i, slot in enumerate(slots):
            if isinstance(slot, _Item):
                slots[i] = StoreOutcome(slot.path, slot.sop_instance, None, False, "not sent: cancelled")
        done = total
        tick()
    report.outcomes = [s for s in slots if isinstance(s, StoreOutcome)]
    report.elapsed_s = time.monotonic() - started
    log.info(
        "C-STORE to %s: %d of %d stored, %d failed%s in %.2f s",
        peer.describe(), report.sent, total, report.failed, " (cancelled)" if report.cancelled else "",
        report.elapsed_s,
    )
    for o in report.outcomes:
        # UIDs and status codes only: file names and messages may carry patient data.
        if not o.ok and o.sop_instance_uid:
            log.warning("C-STORE %s to %s not stored (status %s)", o.sop_instance_uid, peer.describe(),
                        "none" if o.status is None else f"0x{o.status:04X}")
    return report
