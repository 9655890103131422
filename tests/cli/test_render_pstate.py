"""``lightbox render FILE --pstate GSPS`` against DCMTK's ``dcmp2pgm`` on the demo images.

The presentation states are made by the project's writer
(:func:`workstation.imaging.presentation.build_gsps`, highdicom) and, for the
foreign case, by highdicom directly with a VOI LUT table and by adding a display
shutter the writer never writes.  ``dcmp2pgm`` renders the whole image after
the grayscale transforms, rotation and flip (as ``--pstate`` does) but leaves
display shutters out: with a shutter only the pixels the shutter leaves visible
are compared, and the rest must hold the Shutter Presentation Value.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tests.factories import uid
from tests.hanging.conftest import demo  # noqa: F401 - the session's demo studies and cache
from workstation.cli import main as lightbox
from workstation.imaging.luts import Window
from workstation.imaging.presentation import DisplayedArea, PresentationView, build_gsps
from workstation.imaging.presentation_state import read_gsps, spatially_transformed

pytestmark = pytest.mark.skipif(shutil.which("dcmp2pgm") is None, reason="DCMTK's dcmp2pgm is not installed")


def _image(demo, key: str, index: int = 0) -> Path:  # noqa: F811
    return sorted(demo.files[key])[index]


def _dcmp2pgm(image: Path, gsps: Path, out: Path) -> np.ndarray:
    done = subprocess.run(["dcmp2pgm", "-p", str(gsps), str(image), str(out)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return np.asarray(Image.open(out)).astype(int)


def _lightbox(image: Path, pstate: str, out: Path, capsys) -> tuple[np.ndarray, dict]:
    capsys.readouterr()
    assert lightbox(["render", str(image), "--pstate", pstate, "--out", str(out), "--json"]) == 0
    out_text = capsys.readouterr().out
    report = json.loads(out_text[out_text.index("{"):])
    return np.asarray(Image.open(out)).astype(int), report


def _saved(ds, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def _agree(mine: np.ndarray, reference: np.ndarray, where: np.ndarray | None = None) -> float:
    assert mine.shape == reference.shape
    close = np.abs(mine - reference) <= 1
    return float(close[where].mean() if where is not None else close.mean())


CASES = {
    "ct-window": ("ct-chest-2024", 10, PresentationView(window=Window(40, 400))),
    "ct-lung-rotated-flipped": ("ct-chest-2024", 20, PresentationView(window=Window(-600, 1500), rotation=90,
                                                                      flip_horizontal=True)),
    "ct-inverse": ("ct-chest-2024", 5, PresentationView(window=Window(50, 350), presentation_lut_shape="INVERSE")),
    "mr-exact-180": ("mr-brain-2024", 6, PresentationView(window=Window(300, 500, "LINEAR_EXACT"), rotation=180)),
    "dx-as-acquired": ("dx-chest-2024", 0, PresentationView(rotation=270)),  # MONOCHROME1: INVERSE by itself
    "mg-zoomed-area": ("mg-screening-2024", 0, PresentationView(
        window=Window(2000, 3000), displayed_area=DisplayedArea((50, 60), (300, 400), "MAGNIFY", magnification=2.0))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_with_the_viewers_presentation_state_equals_dcmp2pgm(demo, case, tmp_path, capsys):  # noqa: F811
    key, index, view = CASES[case]
    image = _image(demo, key, index)
    gsps = _saved(build_gsps([pydicom.dcmread(image, stop_before_pixels=True)], view), tmp_path / "gsps.dcm")
    reference = _dcmp2pgm(image, gsps, tmp_path / "dcmtk.pgm")
    mine, report = _lightbox(image, str(gsps), tmp_path / "lightbox.png", capsys)
    assert report["pstate"]["rotation"] == view.rotation
    agree = _agree(mine, reference)
    assert agree >= 0.999, f"{case}: {agree:.4%} within one grey level"
    assert mine.std() > 10  # an image, not a flat field


def test_a_foreign_presentation_state_with_a_voi_lut_and_a_shutter(demo, tmp_path, capsys):  # noqa: F811
    import highdicom as hd
    from highdicom.pr import GrayscaleSoftcopyPresentationState, SoftcopyVOILUTTransformation

    image = _image(demo, "ct-chest-2024", 15)
    header = pydicom.dcmread(image, stop_before_pixels=True)
    # a VOI LUT table (stored values 0..4095 -> 12-bit ramp with a knee), as another vendor might write
    first = 0
    data = np.clip((np.arange(4096) - 900) * 3, 0, 4095).astype(np.uint16)
    voi = SoftcopyVOILUTTransformation(voi_luts=[hd.VOILUT(first_mapped_value=first, lut_data=data)])
    gsps = GrayscaleSoftcopyPresentationState(
        referenced_images=[header], series_instance_uid=uid(), series_number=77, sop_instance_uid=uid(),
        instance_number=1, manufacturer="Elsewhere", manufacturer_model_name="Other viewer",
        software_versions="1", device_serial_number="1", content_label="FOREIGN",
        voi_lut_transformations=[voi],
    )
    # a circular and rectangular display shutter, mid grey
    gsps.ShutterShape = ["RECTANGULAR", "CIRCULAR"]
    rows, columns = int(header.Rows), int(header.Columns)
    gsps.ShutterLeftVerticalEdge, gsps.ShutterRightVerticalEdge = columns // 10, columns - columns // 8
    gsps.ShutterUpperHorizontalEdge, gsps.ShutterLowerHorizontalEdge = rows // 6, rows - rows // 10
    gsps.CenterOfCircularShutter = [rows // 2, columns // 2]
    gsps.RadiusOfCircularShutter = rows // 2 - rows // 20
    gsps.ShutterPresentationValue = 0x8000
    path = _saved(gsps, tmp_path / "foreign.dcm")
    reference = _dcmp2pgm(image, path, tmp_path / "dcmtk.pgm")
    mine, report = _lightbox(image, str(path), tmp_path / "lightbox.png", capsys)
    assert report["pstate"]["shutter"] and report["window"]["explanation"] is not None
    visible = read_gsps(pydicom.dcmread(path)).shutter.visible(int(header.Rows), int(header.Columns))
    assert 0.3 < visible.mean() < 0.9
    assert _agree(mine, reference, visible) >= 0.999
    assert (mine[~visible] == 128).all()  # dcmp2pgm leaves shutters out; the standard shows them


def test_a_saved_view_in_the_cache_is_named_by_its_uid(demo, tmp_path, capsys):  # noqa: F811
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths

    image = _image(demo, "ct-chest-2024", 3)
    gsps = build_gsps([pydicom.dcmread(image, stop_before_pixels=True)], PresentationView(window=Window(40, 80)))
    path = _saved(gsps, tmp_path / "saved.dcm")
    home = Home.single(tmp_path / "home")
    with StudyCache.open(home) as cache:
        assert import_paths(cache, [path], workers=1).imported == 1
    capsys.readouterr()
    out = tmp_path / "by-uid.png"
    assert lightbox(["--home", str(home.config_dir), "render", str(image), "--pstate", str(gsps.SOPInstanceUID),
                     "--out", str(out)]) == 0
    assert "W 80 L 40" in capsys.readouterr().out
    assert _agree(np.asarray(Image.open(out)).astype(int), _dcmp2pgm(image, path, tmp_path / "d.pgm")) >= 0.999


def test_presentation_state_errors_are_one_line(demo, tmp_path, capsys):  # noqa: F811
    image, other = _image(demo, "ct-chest-2024", 0), _image(demo, "ct-chest-2024", 1)
    gsps = _saved(build_gsps([pydicom.dcmread(other, stop_before_pixels=True)], PresentationView()),
                  tmp_path / "other.dcm")
    cases = [
        (["--pstate", str(gsps)], "does not apply to this image: it references 1 other image"),
        (["--pstate", str(gsps), "--window", "40", "400"], "--pstate decides the VOI"),
        (["--pstate", "1.2.3.4"], "no such presentation state: 1.2.3.4"),
        (["--pstate", str(image)], "is not a Grayscale Softcopy Presentation State"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert lightbox(["render", str(image), *args, "--out", str(tmp_path / "x.png")]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_sigmoid_voi_follows_the_standards_formula(demo, tmp_path, capsys):  # noqa: F811
    """dcmp2pgm 3.6.7 renders SIGMOID darker than PS3.3 C.11.2.1.3.1 says (22 where the formula gives 41
    at 144 HU below the centre of W 350), so this one is checked against the formula."""
    image = _image(demo, "ct-chest-2024", 5)
    header = pydicom.dcmread(image)
    gsps = _saved(build_gsps([header], PresentationView(window=Window(50, 350, "SIGMOID"))), tmp_path / "s.dcm")
    mine, _ = _lightbox(image, str(gsps), tmp_path / "s.png", capsys)
    hu = header.pixel_array * float(header.RescaleSlope) + float(header.RescaleIntercept)
    expected = 255.0 / (1.0 + np.exp(-4.0 * (hu - 50) / 350))
    assert np.abs(mine - expected).max() <= 1.0


def test_the_shutter_is_applied_before_rotation():
    """Shutter edges are image rows and columns: a 90 degree rotation turns the shuttered band too."""
    from workstation.imaging.presentation_state import DisplayShutter

    shutter = DisplayShutter(("RECTANGULAR",), rectangle=(1, 4, 1, 8), presentation_value=0xFFFF)
    mask = shutter.visible(8, 8)
    assert mask[:, :4].all() and not mask[:, 4:].any()
    turned = spatially_transformed(mask, 90)
    assert turned[:4, :].all() and not turned[4:, :].any()
    assert shutter.output_value() == 255
