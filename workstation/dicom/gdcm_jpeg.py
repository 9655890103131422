"""12-bit JPEG Extended through GDCM directly (pydicom's GDCM plugin declines it).

GDCM aborts the process on data it cannot take: :mod:`workstation.dicom.pixels`
calls :func:`decode_jpeg_with_gdcm` only in a child process.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, BinaryIO

import numpy as np
from pydicom.encaps import get_frame
from pydicom.pixels.decoders.base import DecodeRunner
from pydicom.uid import JPEGExtended12Bit

__all__ = ["decode_jpeg_with_gdcm"]


def decode_jpeg_with_gdcm(
    stream: BinaryIO, runner: DecodeRunner, opts: dict[str, Any], frame: int | None
) -> tuple[np.ndarray, str]:
    """Decode 12-bit JPEG Extended with GDCM, which pydicom's GDCM plugin declines."""
    import gdcm

    nframes = runner.number_of_frames
    indices = range(nframes) if frame is None else [frame]
    dtype = np.dtype(f"{'ui'[runner.pixel_representation]}{runner.bits_allocated // 8}")
    pixels_per_frame = int(runner.frame_length(unit="pixels"))
    flat = np.empty(pixels_per_frame * len(indices), dtype=dtype)
    start = stream.tell()
    for position, index in enumerate(indices):
        stream.seek(start)
        encoded = get_frame(
            stream,
            index,
            number_of_frames=nframes,
            extended_offsets=opts.get("extended_offsets"),
        )
        decoded = _gdcm_decode_frame(gdcm, encoded, runner)
        values = np.frombuffer(decoded, dtype=dtype)
        if values.size < pixels_per_frame:
            raise ValueError(
                f"GDCM returned {values.size} pixels for frame {index}, "
                f"expected {pixels_per_frame}"
            )
        flat[position * pixels_per_frame : (position + 1) * pixels_per_frame] = values[
            :pixels_per_frame
        ]
    unused = runner.bits_allocated - runner.bits_stored
    if unused > 0:
        np.left_shift(flat, unused, out=flat)
        np.right_shift(flat, unused, out=flat)
    array = runner.reshape(flat, as_frame=frame is not None)
    return np.ascontiguousarray(array), str(runner.photometric_interpretation)


def _gdcm_decode_frame(gdcm: ModuleType, encoded: bytes, runner: DecodeRunner) -> bytes:
    """One JPEG frame through GDCM's own codec selection (it has an 8, 12 and 16-bit libjpeg)."""
    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(encoded)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())

    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    pi_type = gdcm.PhotometricInterpretation.GetPIType(str(runner.photometric_interpretation))
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(pi_type))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(runner.planar_configuration)
    ts_type = gdcm.TransferSyntax.GetTSType(str(JPEGExtended12Bit))
    image.SetTransferSyntax(gdcm.TransferSyntax(ts_type))
    image.SetPixelFormat(
        gdcm.PixelFormat(
            runner.samples_per_pixel,
            runner.bits_allocated,
            runner.bits_stored,
            runner.bits_stored - 1,
            runner.pixel_representation,
        )
    )
    buffer = image.GetBuffer()
    if buffer is None:
        raise ValueError("GDCM could not decode the JPEG codestream")
    # GDCM hands back char* as str; undo that without changing a byte.
    raw: bytes = buffer.encode("utf-8", "surrogateescape")
    return raw
