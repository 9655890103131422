"""Transfer syntaxes: short names, how the pixel data is encoded, which decoders to try.

The decoder order is the result of decoding every image in pydicom's and
pydicom-data's test files with every pydicom 3 plugin.  Where the plugins
disagree the first one listed matches an independent reference: for JPEG
baseline, DCMTK's own decompression of the same files, which libjpeg-turbo
(Pillow, GDCM) reproduces bit for bit while pylibjpeg's libjpeg differs by up
to 2; Pillow goes first as it is about six times faster than GDCM there.
Everywhere else all plugins that succeed agree, and the order puts the
fastest first.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom import uid as _uid

#: Decoding plugins to try, first to last, for each encapsulated transfer syntax.
#: Plugins pydicom offers that are not listed here are tried after these.
DECODER_ORDER: dict[str, tuple[str, ...]] = {
    # libjpeg-turbo (Pillow, GDCM) reproduces DCMTK's decompression exactly.
    _uid.JPEGBaseline8Bit: ("pillow", "gdcm", "pylibjpeg"),
    # pydicom hands only 8-bit JPEG Extended to Pillow and GDCM, so 12-bit
    # images go to pylibjpeg; Lightbox then falls back to GDCM itself.
    _uid.JPEGExtended12Bit: ("pillow", "gdcm", "pylibjpeg"),
    # GDCM last: it aborts the process on data it cannot take, so Lightbox runs it
    # only in a child process (see workstation.dicom.isolation).
    _uid.JPEGLossless: ("pylibjpeg", "gdcm"),
    _uid.JPEGLosslessSV1: ("pylibjpeg", "gdcm"),
    # CharLS (pyjpegls) is the JPEG-LS reference implementation.
    _uid.JPEGLSLossless: ("pyjpegls", "pylibjpeg", "gdcm"),  # GDCM last everywhere (see above)
    _uid.JPEGLSNearLossless: ("pyjpegls", "pylibjpeg", "gdcm"),
    _uid.JPEG2000Lossless: ("pylibjpeg", "gdcm", "pillow"),
    _uid.JPEG2000: ("pylibjpeg", "gdcm", "pillow"),
    _uid.HTJ2KLossless: ("pylibjpeg",),
    _uid.HTJ2KLosslessRPCL: ("pylibjpeg",),
    _uid.HTJ2K: ("pylibjpeg",),
    _uid.RLELossless: ("pylibjpeg", "pydicom"),
}

_SHORT_NAMES: dict[str, str] = {
    _uid.ImplicitVRLittleEndian: "Implicit VR Little Endian",
    _uid.ExplicitVRLittleEndian: "Explicit VR Little Endian",
    _uid.DeflatedExplicitVRLittleEndian: "Deflated Explicit VR Little Endian",
    _uid.ExplicitVRBigEndian: "Explicit VR Big Endian",
    _uid.JPEGBaseline8Bit: "JPEG Baseline",
    _uid.JPEGExtended12Bit: "JPEG Extended",
    _uid.JPEGLossless: "JPEG Lossless",
    _uid.JPEGLosslessSV1: "JPEG Lossless SV1",
    _uid.JPEGLSLossless: "JPEG-LS Lossless",
    _uid.JPEGLSNearLossless: "JPEG-LS Near-Lossless",
    _uid.JPEG2000Lossless: "JPEG 2000 Lossless",
    _uid.JPEG2000: "JPEG 2000",
    _uid.JPEG2000MCLossless: "JPEG 2000 Part 2 Lossless",
    _uid.JPEG2000MC: "JPEG 2000 Part 2",
    _uid.HTJ2KLossless: "HTJ2K Lossless",
    _uid.HTJ2KLosslessRPCL: "HTJ2K Lossless RPCL",
    _uid.HTJ2K: "HTJ2K",
    _uid.RLELossless: "RLE Lossless",
}

_NATIVE = {
    _uid.ImplicitVRLittleEndian,
    _uid.ExplicitVRLittleEndian,
    _uid.DeflatedExplicitVRLittleEndian,
    _uid.ExplicitVRBigEndian,
}

_LOSSY = {
    _uid.JPEGBaseline8Bit,
    _uid.JPEGExtended12Bit,
    _uid.JPEGLSNearLossless,
    _uid.JPEG2000,
    _uid.JPEG2000MC,
    _uid.HTJ2K,
    *_uid.MPEGTransferSyntaxes,
}


@dataclass(frozen=True)
class TransferSyntax:
    """What Lightbox needs to know about one transfer syntax.

    Attributes
    ----------
    uid : str
        The Transfer Syntax UID.
    name : str
        A short name for messages ("JPEG 2000 Lossless"); the UID itself when unknown.
    known : bool
        True for a transfer syntax in the DICOM standard (PS3.6 Annex A).
    native : bool
        True when the pixel data is not encapsulated (including deflated and big endian).
    little_endian : bool
        Byte order of the data set.
    implicit_vr : bool
        True for Implicit VR Little Endian.
    deflated : bool
        True when the whole data set is deflated (the pixel data is native inside).
    lossy : bool
        True when the transfer syntax allows lossy compression.
    """

    uid: str
    name: str
    known: bool
    native: bool
    little_endian: bool
    implicit_vr: bool
    deflated: bool
    lossy: bool

    @property
    def native_little_endian(self) -> bool:
        """True when the pixel data bytes sit in the file exactly as they are used."""
        return self.native and self.little_endian and not self.deflated


def transfer_syntax(uid: str) -> TransferSyntax:
    """Describe the transfer syntax ``uid``.

    Parameters
    ----------
    uid : str
        A Transfer Syntax UID; surrounding spaces and trailing NULs are ignored.

    Returns
    -------
    TransferSyntax
        The description; ``known`` is False for a UID pydicom does not know
        as a transfer syntax (which is then treated as encapsulated).
    """
    text = str(uid).strip().rstrip("\x00").strip()
    value = _uid.UID(text)
    known = value.is_transfer_syntax if value.is_valid else False
    if text in _SHORT_NAMES:
        name = _SHORT_NAMES[text]
    elif known:
        name = value.name
    else:
        name = text or "unknown transfer syntax"
    native = text in _NATIVE
    little = text != _uid.ExplicitVRBigEndian
    return TransferSyntax(
        uid=text,
        name=name,
        known=known,
        native=native,
        little_endian=little,
        implicit_vr=text == _uid.ImplicitVRLittleEndian,
        deflated=text == _uid.DeflatedExplicitVRLittleEndian,
        lossy=text in _LOSSY,
    )


def decoder_order(uid: str, available: tuple[str, ...] | list[str]) -> list[str]:
    """Return the plugins of ``available`` in the order Lightbox tries them for ``uid``.

    Parameters
    ----------
    uid : str
        The Transfer Syntax UID.
    available : sequence of str
        Plugin names pydicom reports as usable for this transfer syntax.

    Returns
    -------
    list of str
        The preferred plugins that are available, then any other available ones.
    """
    preferred = [name for name in DECODER_ORDER.get(str(uid), ()) if name in available]
    return preferred + sorted(name for name in available if name not in preferred)
