"""Helpers for network tests: tiny synthetic CT instances, free ports, process checks."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


CALLING_AE = "LIGHTBOX"

# (patient name, patient id, study date, [instances per series])
LAYOUT = [
    ("Test^Alpha", "LBX-T1", "20240105", [4, 3]),
    ("Test^Beta", "LBX-T2", "20240212", [3]),
]


def make_ct(
    patient: tuple[str, str],
    study_uid: str,
    series_uid: str,
    number: int,
    *,
    study_date: str = "20240101",
    series_number: int = 1,
    rows: int = 8,
) -> Dataset:
    """A minimal but valid CT Image instance with ``rows`` x ``rows`` int16 pixels."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName, ds.PatientID = patient
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC" + study_date
    ds.StudyID = "1"
    ds.Modality = "CT"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = number
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study_uid, "frame"])
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 1.0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = rows
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    pixels = (np.arange(rows * rows, dtype=np.int16).reshape(rows, rows) * number) - 100
    ds.PixelData = pixels.tobytes()
    return ds


def write_study_set(folder: Path) -> list[Path]:
    """Write the 2 studies / 3 series / 10 instances of LAYOUT as Part 10 files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, pid, date, series_sizes in LAYOUT:
        study_uid = generate_uid()
        for s_index, count in enumerate(series_sizes, start=1):
            series_uid = generate_uid()
            for n in range(1, count + 1):
                ds = make_ct((name, pid), study_uid, series_uid, n, study_date=date, series_number=s_index)
                path = folder / f"{ds.SOPInstanceUID}.dcm"
                ds.save_as(path, enforce_file_format=True)
                paths.append(path)
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie that is not ours to reap)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not process_gone(pid)


def leave_responses_to_the_sender(assoc: Any) -> Any:
    """Keep a requestor association's reactor from taking the responses its ``send_*`` calls wait for.

    pynetdicom's ``send_c_store`` pauses the association's reactor thread by clearing a checkpoint
    and waiting for a flag the reactor sets just *before* that checkpoint; a reactor that has just
    passed it still reads the message queue once.  When the reactor thread is preempted there
    (a loaded machine), the C-STORE-RSP is taken by it ("Received unexpected C-STORE service
    message"), the sender waits its DIMSE timeout, aborts and gets an empty status.  A test's SCU
    that its peer sends no requests to needs nothing from the reactor's reads, so they are emptied.

    Parameters
    ----------
    assoc : pynetdicom.association.Association
        An established association requested by the test (no requests expected from the peer).

    Returns
    -------
    pynetdicom.association.Association
        The same association.
    """
    take = assoc.dimse.get_msg

    def get_msg(block: bool = False) -> Any:
        return take(block=True) if block else (None, None)  # only the reactor reads without blocking

    assoc.dimse.get_msg = get_msg
    return assoc


@contextmanager
def ct_store_association(scp: Any, calling_ae: str) -> Iterator[Any]:
    """A pynetdicom C-STORE association (CT, Explicit VR Little Endian) to ``scp`` on 127.0.0.1.

    Established (asserted), its responses left to ``send_c_store`` (:func:`leave_responses_to_the_sender`)
    and released afterwards.

    Parameters
    ----------
    scp : StorageSCP
        The receiver (its ``port`` and ``ae_title``).
    calling_ae : str
        The sender's AE title.
    """
    from pynetdicom import AE

    ae = AE(calling_ae)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", scp.port, ae_title=scp.ae_title)
    assert assoc.is_established
    leave_responses_to_the_sender(assoc)
    try:
        yield assoc
    finally:
        assoc.release()
