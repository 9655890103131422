"""decode_pixels and pixel_data_location against every public test image.

The decode table (transfer syntax -> files decoded / failed) is printed by
``test_every_file_gives_an_array_or_a_reason``; see it with ``pytest -rP``.
"""

from __future__ import annotations

import collections
import time
import warnings

import numpy as np
import pydicom
import pytest
from pydicom import uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import convert_color_space, get_decoder, pixel_array

from tests.dicom import testdata as td
from workstation.dicom import pixels as pixels_module
from workstation.dicom.pixels import PixelResult, decode_pixels, pixel_data_location
from workstation.dicom.transfer_syntax import decoder_order, transfer_syntax

PIXEL_FILES = td.files_with_pixel_data()

#: Every one of these must have at least one test file that decodes.
REQUIRED = [
    uid.JPEGBaseline8Bit,
    uid.JPEGExtended12Bit,
    uid.JPEGLosslessSV1,
    uid.JPEGLSLossless,
    uid.JPEGLSNearLossless,
    uid.JPEG2000Lossless,
    uid.JPEG2000,
    uid.RLELossless,
    uid.DeflatedExplicitVRLittleEndian,
    uid.ExplicitVRLittleEndian,
    uid.ImplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
]

# Colour spaces in which pydicom's pixel_array differs from the stored values.
_YBR = {"YBR_FULL", "YBR_FULL_422"}


def _file_transfer_syntax(ds: Dataset) -> str:
    meta_ts = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if meta_ts:
        return str(meta_ts)
    implicit, little = ds.original_encoding
    if implicit:
        return uid.ImplicitVRLittleEndian
    return uid.ExplicitVRLittleEndian if little else uid.ExplicitVRBigEndian


def _pydicom_values(ds: Dataset, **kwargs) -> np.ndarray:
    """pydicom's decode of ``ds``: ``ds.pixel_array``, or the raw values for YBR images."""
    if not ds.file_meta.get("TransferSyntaxUID"):  # pydicom needs it; Lightbox infers it
        ds.file_meta.TransferSyntaxUID = _file_transfer_syntax(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if str(ds.get("PhotometricInterpretation", "")) in _YBR:
            return pixel_array(ds, raw=True, **kwargs)
        if kwargs:
            return pixel_array(ds, **kwargs)
        return ds.pixel_array


def _native_files() -> list:
    native = []
    for path in PIXEL_FILES:
        ds = td.read(path)
        if transfer_syntax(_file_transfer_syntax(ds)).native and path.name not in td.EXPECTED_ERRORS:
            native.append(path)
    return native


NATIVE_FILES = _native_files()


def _decode_ok(path, frame=None) -> np.ndarray:
    result = decode_pixels(path, frame)
    assert result.ok, f"{td.label(path)}: {result.error}"
    return result.array


# -- every file ----------------------------------------------------------------------------


Outcome = collections.namedtuple("Outcome", "ok error ts shape dtype contiguous seconds")


@pytest.fixture(scope="module")
def survey():
    """Decode every test image once: {path: Outcome} (the arrays are not kept)."""
    outcome = {}
    for path in PIXEL_FILES:
        start = time.perf_counter()
        result = decode_pixels(path)
        seconds = time.perf_counter() - start
        assert isinstance(result, PixelResult)
        assert result.ok != (result.error is not None), td.label(path)
        array = result.array
        outcome[path] = Outcome(
            result.ok, result.error, result.transfer_syntax,
            None if array is None else array.shape,
            None if array is None else array.dtype,
            None if array is None else array.flags.c_contiguous and array.flags.writeable,
            seconds,
        )
    return outcome


def test_there_are_test_files():
    assert len(PIXEL_FILES) >= 60
    if td.pydicom_data_dir() is not None:
        assert len(PIXEL_FILES) >= 150


def test_every_file_gives_an_array_or_a_reason(survey):
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for outcome in survey.values():
        table[outcome.ts]["ok" if outcome.ok else "error"] += 1
    lines = [f"{'transfer syntax':<36} {'ok':>4} {'error':>6}"]
    for ts in sorted(table, key=lambda t: transfer_syntax(t).name):
        lines.append(f"{transfer_syntax(ts).name:<36} {table[ts]['ok']:>4} {table[ts]['error']:>6}")
    lines.append("")
    lines += [f"{td.label(p)}: {o.error}" for p, o in survey.items() if not o.ok]
    slowest = sorted(survey.items(), key=lambda item: -item[1].seconds)[:3]
    lines += [f"slowest: {td.label(p)} {o.seconds * 1000:.0f} ms" for p, o in slowest]
    print("\n".join(lines))

    missing = [transfer_syntax(ts).name for ts in REQUIRED if table[ts]["ok"] == 0]
    assert not missing, f"no test file decodes for: {missing}"


def test_only_the_malformed_files_fail(survey):
    failed = {path.name: o.error for path, o in survey.items() if not o.ok}
    unexpected = {name: error for name, error in failed.items() if name not in td.EXPECTED_ERRORS}
    assert not unexpected
    for name, error in failed.items():
        assert error.startswith(td.EXPECTED_ERRORS[name]), (name, error)
        assert "\n" not in error and "Traceback" not in error


def test_arrays_follow_the_image_pixel_module(survey):
    for path, outcome in survey.items():
        if not outcome.ok:
            continue
        ds = td.read_header(path)
        frames = int(ds.get("NumberOfFrames") or 1)
        expected = (ds.Rows, ds.Columns) + ((ds.SamplesPerPixel,) if ds.SamplesPerPixel > 1 else ())
        if frames > 1:
            expected = (frames,) + expected
        assert outcome.shape == expected, td.label(path)
        assert outcome.dtype.isnative, td.label(path)
        assert outcome.contiguous, td.label(path)


# -- native data: exactly pydicom's values --------------------------------------------------


@pytest.mark.parametrize("path", NATIVE_FILES, ids=td.label)
def test_native_values_equal_pydicom(path):
    ds = td.read(path)
    expected = _pydicom_values(ds)
    from_path = decode_pixels(path)
    from_dataset = decode_pixels(ds)
    for result in (from_path, from_dataset):
        assert result.ok, result.error
        assert result.transfer_syntax == _file_transfer_syntax(ds)
        assert result.array.shape == expected.shape
        assert result.array.dtype.kind == expected.dtype.kind
        assert result.array.dtype.itemsize == expected.dtype.itemsize
        np.testing.assert_array_equal(result.array, expected)
    if str(ds.PhotometricInterpretation) != "YBR_FULL_422":
        assert from_path.photometric_interpretation == str(ds.PhotometricInterpretation)


@pytest.mark.parametrize(
    "path", [p for p in NATIVE_FILES if int(td.read_header(p).get("NumberOfFrames") or 1) > 1],
    ids=td.label,
)
def test_native_frames_equal_slices_of_all_frames(path):
    everything = _decode_ok(path)
    for index in range(everything.shape[0]):
        np.testing.assert_array_equal(_decode_ok(path, index), everything[index])
    ds = td.read(path)
    np.testing.assert_array_equal(decode_pixels(ds, 1).array, everything[1])


@pytest.mark.parametrize("path", NATIVE_FILES, ids=td.label)
def test_pixel_data_location_reads_the_decoded_values(path):
    ds = td.read(path)
    ts = transfer_syntax(_file_transfer_syntax(ds))
    location = pixel_data_location(path)
    if not ts.native_little_endian:
        assert location is None
        return
    assert location is not None
    offset, length = location
    decoded = _decode_ok(path)
    bits = ds.BitsAllocated
    frames = int(ds.get("NumberOfFrames") or 1)
    count = ds.Rows * ds.Columns * ds.SamplesPerPixel * frames
    if str(ds.PhotometricInterpretation) == "YBR_FULL_422":
        assert length >= count * 2 // 3 * bits // 8  # two chroma samples per two pixels
        return
    assert length >= -(-count * bits // 8)
    if bits == 1:
        return  # bit-packed: the bytes are there, but not one value each
    kind = "f" if "PixelData" not in ds else "ui"[ds.PixelRepresentation]
    raw = np.fromfile(path, dtype=f"<{kind}{bits // 8}", count=count, offset=offset)
    unused = bits - ds.get("BitsStored", bits)
    if kind != "f" and unused:
        raw = (raw << unused) >> unused
    if ds.SamplesPerPixel > 1 and ds.get("PlanarConfiguration", 0) == 1:
        raw = raw.reshape(frames, ds.SamplesPerPixel, -1).transpose(0, 2, 1)
    np.testing.assert_array_equal(raw.ravel(), decoded.ravel())


def test_big_endian_arrays_are_in_machine_order():
    result = decode_pixels(td.data_file("MR_small_bigendian.dcm"))
    assert result.array.dtype == np.dtype("int16") and result.array.dtype.isnative


# -- compressed data against references ------------------------------------------------------

SAME_PAIRS = [(ref, other) for ref, others in td.SAME_VALUES.items() for other in others]


@pytest.mark.parametrize("reference, other", SAME_PAIRS, ids=[o for _r, o in SAME_PAIRS])
def test_lossless_and_native_versions_hold_the_same_values(reference, other):
    expected = _decode_ok(td.data_file(reference))
    path = td.data_file(other)
    result = decode_pixels(path)
    assert result.ok, result.error
    np.testing.assert_array_equal(result.array, expected)
    assert result.photometric_interpretation == decode_pixels(td.data_file(reference)).photometric_interpretation
    if int(td.read_header(path).get("NumberOfFrames") or 1) > 1:
        for index in (0, expected.shape[0] - 1):  # one frame from a multi-frame codestream
            np.testing.assert_array_equal(_decode_ok(path, index), expected[index])


def _libjpeg_turbo_available() -> bool:
    return bool({"pillow", "gdcm"} & set(get_decoder(uid.JPEGBaseline8Bit).available_plugins))


@pytest.mark.parametrize("jpeg, dcmtk", sorted(td.YBR_JPEG_AND_DCMTK_RGB.items()))
def test_ybr_jpeg_stays_ybr_and_converts_to_dcmtks_rgb(jpeg, dcmtk):
    result = decode_pixels(td.data_file(jpeg))
    assert result.ok, result.error
    assert result.photometric_interpretation == str(td.read(td.data_file(jpeg)).PhotometricInterpretation)
    rgb = convert_color_space(result.array, "YBR_FULL", "RGB").astype(int)
    reference = _decode_ok(td.data_file(dcmtk)).astype(int)
    tolerance = 0 if _libjpeg_turbo_available() else 2
    assert np.abs(rgb - reference).max() <= tolerance


@pytest.mark.parametrize("lossy, reference, tolerance", td.CLOSE_VALUES)
def test_lossy_files_are_close_to_the_original(lossy, reference, tolerance):
    decoded = _decode_ok(td.data_file(lossy)).astype(int)
    expected = _decode_ok(td.data_file(reference)).astype(int)
    assert decoded.shape == expected.shape
    assert np.abs(decoded - expected).max() <= tolerance


# (file, frame, index into the array, expected values): points pydicom's own tests check.
SPOT_VALUES = [
    ("JPEG-lossy.dcm", None, (420, 140), 244),  # 12-bit JPEG Extended with a bad scan header
    ("JPEG-lossy.dcm", None, (230, 120), 95),
    ("JPGExtended.dcm", None, (420, 140), 244),
    ("JPGExtended.dcm", None, (230, 120), 95),
    ("J2K_pixelrep_mismatch.dcm", None, (0, 0), -2000),
    ("J2K_pixelrep_mismatch.dcm", None, (slice(47, 57), 279),
     [621, 412, 138, -193, -520, -767, -907, -966, -988, -995]),
    ("J2K_pixelrep_mismatch.dcm", None, (slice(328, 338), 106),
     [-377, -121, 141, 383, 633, 910, 1198, 1455, 1638, 1732]),
    ("GDCMJ2K_TextGBR.dcm", None, (45, 140), [223, 32, 32]),
    ("GDCMJ2K_TextGBR.dcm", None, (46, 140), [255, 0, 0]),
    ("GDCMJ2K_TextGBR.dcm", None, (350, 195), [128, 128, 128]),
    ("JPGLosslessP14SV1_1s_1f_8b.dcm", None, (300, slice(512, 520)), [26, 26, 25, 22, 19, 16, 14, 15]),
    ("JPEG-LL.dcm", None, (400, slice(124, 132)), [60, 58, 61, 68, 59, 65, 64, 67]),
    ("JPEG-LL.dcm", None, (600, slice(124, 132)), [3, 1, 2, 0, 2, 1, 2, 0]),
    ("MR_small_jpeg_ls_lossless.dcm", None, (slice(55, 64), 35),
     [170, 193, 191, 373, 1293, 2053, 1879, 1683, 1711]),
    ("SC_rgb_small_odd_jpeg.dcm", None, (slice(0, 3), 0), [[138, 78, 147], [90, 178, 108], [158, 126, 129]]),
    ("color3d_jpeg_baseline.dcm", 0, (278, slice(300, 310), 0), [64, 76, 86, 95, 95, 97, 98, 98, 106, 108]),
    ("SC_ybr_full_422_uncompressed.dcm", None, (5, 50), [76, 85, 255]),
    ("SC_ybr_full_uncompressed.dcm", None, (15, 50), [166, 106, 193]),
    ("liver_1frame.dcm", None, (155, slice(310, 314)), [1, 0, 1, 0]),
    ("liver.dcm", 2, (147, slice(248, 254)), [0, 1, 0, 1, 1, 1]),
    ("image_dfl.dcm", None, (300, slice(255, 263)), [138, 65, 65, 65, 65, 35, 35, 35]),
    ("emri_small_jpeg_2k_lossless.dcm", 4, (0, slice(31, 34)), [67, 82, 44]),
    ("emri_small_RLE.dcm", 9, (31, slice(0, 3)), [25, 4, 9]),
    ("rtdose_rle.dcm", 7, (0, slice(0, 3)), [1253000, 1253000, 1249000]),
    ("SC_rgb_2frame.dcm", 1, (5, 50), [0, 255, 255]),
    ("OBXXXX1A_2frame.dcm", 1, (300, slice(491, 494)), [254, 9, 254]),
]
# Values that libjpeg-turbo (Pillow, GDCM) decodes; pylibjpeg's libjpeg differs by one.
TURBO_SPOT_VALUES = [
    ("color3d_jpeg_baseline.dcm", 59, (278, slice(300, 310), 0), [22, 22, 27, 32, 32, 29, 23, 21, 24, 33]),
    ("SC_rgb_dcmtk_+eb+cy+n1.dcm", None, (15, 50), [166, 109, 190]),
    ("SC_rgb_dcmtk_+eb+cy+np.dcm", None, (35, 50), [203, 85, 74]),
]


@pytest.mark.parametrize("name, frame, index, expected", SPOT_VALUES + TURBO_SPOT_VALUES)
def test_values_at_known_points(name, frame, index, expected):
    if (name, frame, index, expected) in TURBO_SPOT_VALUES and not _libjpeg_turbo_available():
        pytest.skip("neither Pillow nor GDCM is installed")
    array = _decode_ok(td.data_file(name), frame)
    assert np.asarray(array[index]).tolist() == expected


def test_j2k_component_transform_is_undone_and_reported_as_rgb():
    result = decode_pixels(td.data_file("US1_J2KR.dcm"))
    assert td.read(td.data_file("US1_J2KR.dcm")).PhotometricInterpretation == "YBR_RCT"
    assert result.photometric_interpretation == "RGB"


# -- JPEG Lossless process 14 (not SV1): no public file, so GDCM writes one ----------------


@pytest.mark.parametrize("name", ["MR_small.dcm", "SC_rgb.dcm"])
def test_jpeg_lossless_process_14(tmp_path, name):
    gdcm = pytest.importorskip("gdcm")
    source = td.data_file(name)
    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(tmp_path / "p14.dcm"))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write()

    result = decode_pixels(tmp_path / "p14.dcm")
    assert result.transfer_syntax == uid.JPEGLossless
    assert result.ok, result.error
    np.testing.assert_array_equal(result.array, _decode_ok(source))


# -- synthetic images ---------------------------------------------------------------------


def _image(values: np.ndarray, keyword="PixelData", ts=uid.ExplicitVRLittleEndian, frames=None,
           samples=1, planar=0, bits_stored=None, signed=None) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = uid.SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = uid.generate_uid()
    ds.SOPClassUID = uid.SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    shape = values.shape[1:] if frames else values.shape
    ds.Rows, ds.Columns = shape[:2] if samples == 1 or planar == 0 else shape[1:3]
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = planar
    if frames:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = values.dtype.itemsize * 8
    if keyword == "PixelData":
        ds.BitsStored = bits_stored or ds.BitsAllocated
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = int(values.dtype.kind == "i") if signed is None else signed
        ds.PixelData = values.astype(values.dtype.newbyteorder("<")).tobytes()
    else:
        setattr(ds, keyword, values.astype(values.dtype.newbyteorder("<")).tobytes())
    return ds


def _save(ds: Dataset, path):
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("keyword, dtype", [("FloatPixelData", "<f4"), ("DoubleFloatPixelData", "<f8")])
def test_float_pixel_data(tmp_path, keyword, dtype):
    values = (np.arange(2 * 5 * 7, dtype=dtype).reshape(2, 5, 7) - 20.5) / 3
    ds = _image(values, keyword=keyword, frames=2)
    path = _save(ds, tmp_path / "float.dcm")
    for source in (path, td.read(path)):
        result = decode_pixels(source)
        assert result.ok, result.error
        np.testing.assert_array_equal(result.array, values)
        np.testing.assert_array_equal(result.array, pixel_array(td.read(path)))
        np.testing.assert_array_equal(decode_pixels(source, 1).array, values[1])
    offset, length = pixel_data_location(path)
    assert length == values.nbytes
    np.testing.assert_array_equal(np.fromfile(path, dtype, values.size, offset=offset), values.ravel())


def test_signed_values_with_junk_above_bits_stored_are_sign_extended_like_pydicom(tmp_path):
    rng = np.random.default_rng(7)
    stored = rng.integers(-2048, 2048, size=(6, 9), dtype=np.int16)
    junk = stored.view(np.uint16) & 0x0FFF | (rng.integers(0, 16, size=stored.shape, dtype=np.uint16) << 12)
    path = _save(_image(junk.view(np.int16), bits_stored=12), tmp_path / "junk.dcm")
    result = decode_pixels(path)
    np.testing.assert_array_equal(result.array, stored)
    np.testing.assert_array_equal(result.array, td.read(path).pixel_array)


def test_planar_configuration_one_is_returned_interleaved(tmp_path):
    interleaved = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    planes = np.ascontiguousarray(interleaved.transpose(0, 3, 1, 2))
    path = _save(_image(planes, frames=2, samples=3, planar=1), tmp_path / "planar.dcm")
    result = decode_pixels(path)
    np.testing.assert_array_equal(result.array, interleaved)
    assert result.array.flags.c_contiguous
    np.testing.assert_array_equal(decode_pixels(path, 1).array, interleaved[1])
    np.testing.assert_array_equal(result.array, td.read(path).pixel_array)


def test_file_without_meta_header(tmp_path):
    values = np.arange(12, dtype=np.uint16).reshape(3, 4)
    ds = _image(values, ts=uid.ImplicitVRLittleEndian)
    path = tmp_path / "nometa.dcm"
    del ds.file_meta
    ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert path.read_bytes()[128:132] != b"DICM"
    result = decode_pixels(path)
    assert result.ok, result.error
    assert result.transfer_syntax == uid.ImplicitVRLittleEndian
    np.testing.assert_array_equal(result.array, values)
    assert pixel_data_location(path) == (path.stat().st_size - values.nbytes, values.nbytes)


def test_a_frame_is_read_from_a_file_whose_later_frames_are_missing(tmp_path):
    source = td.data_file("emri_small.dcm")
    offset, length = pixel_data_location(source)
    path = tmp_path / "cut.dcm"
    path.write_bytes(source.read_bytes()[: offset + length // 2 + 100])
    everything = _decode_ok(source)
    np.testing.assert_array_equal(_decode_ok(path, 0), everything[0])
    np.testing.assert_array_equal(_decode_ok(path, 4), everything[4])
    assert decode_pixels(path, 5).error == f"pixel data truncated: expected {6 * 8192} bytes, found {length // 2 + 100}"
    assert decode_pixels(path).error == f"pixel data truncated: expected {length} bytes, found {length // 2 + 100}"
    assert pixel_data_location(path) is None


# -- bad input: a result, never an exception -------------------------------------------------


def test_files_without_pixel_data():
    for name in ("rtplan.dcm", "DICOMDIR", "test-SR.dcm"):
        result = decode_pixels(td.data_file(name))
        assert not result.ok and result.error == "no Pixel Data"
        assert pixel_data_location(td.data_file(name)) is None
    header_only = pydicom.dcmread(td.data_file("MR_small.dcm"), stop_before_pixels=True)
    assert decode_pixels(header_only).error == "no Pixel Data"


def test_unreadable_sources(tmp_path):
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "text.dcm").write_text("not DICOM at all\n" * 50)
    (tmp_path / "noise.dcm").write_bytes(np.random.default_rng(1).bytes(5000))
    for source in ("/nonexistent/x.dcm", tmp_path, tmp_path / "empty.dcm", tmp_path / "text.dcm",
                   tmp_path / "noise.dcm"):
        result = decode_pixels(source)
        assert not result.ok and result.error, source
        assert pixel_data_location(source) is None
    assert decode_pixels("/nonexistent/x.dcm").error.startswith("cannot open file")


def test_frame_numbers_out_of_range():
    path = td.data_file("emri_small.dcm")
    assert decode_pixels(path, 10).error == "frame 10 does not exist: the image has 10 frames"
    assert decode_pixels(td.data_file("MR_small.dcm"), 1).error == (
        "frame 1 does not exist: the image has 1 frame"
    )
    assert "count from 0" in decode_pixels(path, -1).error
    assert "integer" in decode_pixels(path, "2").error
    assert decode_pixels(path, np.int64(3)).ok
    assert decode_pixels(td.data_file("emri_small_jpeg_ls_lossless.dcm"), 10).error.startswith("frame 10")


def test_transfer_syntax_problems():
    ds = td.read(td.data_file("MR_small.dcm"))
    ds.file_meta.TransferSyntaxUID = uid.MPEG2MPML
    assert decode_pixels(ds).error.startswith("cannot decode MPEG2")
    ds.file_meta.TransferSyntaxUID = "1.2.3.4"
    assert decode_pixels(ds).error == "unknown transfer syntax '1.2.3.4'"
    ds.file_meta.TransferSyntaxUID = uid.JPEG2000Lossless
    assert decode_pixels(ds).error == "JPEG 2000 Lossless pixel data is not encapsulated"
    bare = Dataset()
    bare.PixelData = b"\0" * 8
    assert decode_pixels(bare).error == "the data set has no Transfer Syntax UID"


def test_damaged_codestreams_give_a_reason(tmp_path):
    rng = np.random.default_rng(3)
    names = ["emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm", "emri_small_RLE.dcm",
             "SC_rgb_jpeg_gdcm.dcm", "SC_rgb_dcmtk_+eb+cy+np.dcm", "JPGExtended.dcm", "US1_J2KI.dcm",
             "JPEG-lossy.dcm", "image_dfl.dcm", "MR_small_bigendian.dcm", "liver.dcm"]
    for name in names:
        data = bytearray(td.data_file(name).read_bytes())
        variants = [data[: len(data) * cut // 10] for cut in (3, 6, 9)]
        for _ in range(3):
            damaged = bytearray(data)
            start = int(rng.integers(len(data) // 2, len(data) - 64))
            damaged[start : start + 64] = rng.bytes(64)
            variants.append(damaged)
        for number, variant in enumerate(variants):
            path = tmp_path / f"{number}-{name}"
            path.write_bytes(bytes(variant))
            for frame in (None, 0):
                result = decode_pixels(path, frame)
                assert isinstance(result, PixelResult)
                assert result.ok != (result.error is not None), (name, number)


def test_exceptions_from_libraries_become_errors_but_interrupts_do_not(monkeypatch):
    path = td.data_file("emri_small_RLE.dcm")

    def broken(*args, **kwargs):
        raise RuntimeError("codec crashed\nwith details")

    decoder = get_decoder(uid.RLELossless)
    monkeypatch.setattr(decoder, "as_array", broken)
    result = decode_pixels(path)
    assert result.error == "cannot decode RLE Lossless pixel data: pydicom: codec crashed"
    monkeypatch.undo()

    for exc in (KeyboardInterrupt, MemoryError):
        def interrupted(*args, exc=exc, **kwargs):
            raise exc()

        monkeypatch.setattr(pixels_module, "dcmread", interrupted)
        with pytest.raises(exc):
            decode_pixels(path)
        monkeypatch.undo()


def test_decoder_order_prefers_the_plugins_that_match_references():
    assert decoder_order(uid.JPEGBaseline8Bit, ("pylibjpeg", "gdcm", "pillow")) == ["pillow", "gdcm", "pylibjpeg"]
    assert decoder_order(uid.JPEGBaseline8Bit, ("pylibjpeg", "newcodec")) == ["pylibjpeg", "newcodec"]
    assert decoder_order(uid.RLELossless, ("pydicom",)) == ["pydicom"]
    assert transfer_syntax(uid.JPEG2000).name == "JPEG 2000"
    assert transfer_syntax(uid.ExplicitVRBigEndian).little_endian is False
    assert transfer_syntax("1.2.840.10008.1.2.1\x00").native_little_endian
    assert not transfer_syntax("9.9.9").known
