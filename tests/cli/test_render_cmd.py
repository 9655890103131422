"""``lightbox render``: output, options, and one-line errors."""

from __future__ import annotations

import json
import subprocess

import numpy as np
from PIL import Image

from tests import factories
from tests.dicom.testdata import data_file
from workstation.cli import main as lightbox


def _ct_file(tmp_path, **kw):
    ds = factories.ct_dataset(study_uid=factories.uid(), series_uid=factories.uid(), size=8, **kw)
    ds.RescaleIntercept = -1024
    ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    ds.PixelData = (np.arange(64, dtype="<i2").reshape(8, 8) * 40 + 500).tobytes()
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_render_writes_the_pipeline_output(tmp_path, lightbox_cmd):
    path = _ct_file(tmp_path)
    out = tmp_path / "out.png"
    done = subprocess.run([*lightbox_cmd, "render", str(path), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out} (8x8, W 400 L 40)"
    pixels = np.asarray(Image.open(out))
    assert pixels.shape == (8, 8) and pixels.dtype == np.uint8


def test_voi_index_window_invert_and_json(tmp_path, capsys):
    path = _ct_file(tmp_path)
    first, second, explicit, inverted = (tmp_path / f"{n}.png" for n in ("a", "b", "c", "d"))
    assert lightbox(["render", str(path), "--out", str(first)]) == 0
    assert lightbox(["render", str(path), "--voi-index", "2", "--out", str(second), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert report["window"] == {"center": -600.0, "width": 1500.0, "function": "LINEAR", "explanation": ""}
    assert lightbox(["render", str(path), "--window", "40", "400", "--out", str(explicit)]) == 0
    assert lightbox(["render", str(path), "--invert", "--out", str(inverted)]) == 0
    a, b, c, d = (np.asarray(Image.open(p)).astype(int) for p in (first, second, explicit, inverted))
    assert np.array_equal(a, c) and not np.array_equal(a, b)
    # Inverted before truncation to integers (as DCMTK does): within one level of 255 - a.
    assert np.abs(d - (255 - a)).max() <= 1 and d[0, 0] == 255 and d[-1, -1] == 0


def test_colour_images_are_written_as_rgb(tmp_path):
    out = tmp_path / "rgb.png"
    assert lightbox(["render", str(data_file("SC_rgb.dcm")), "--out", str(out)]) == 0
    assert Image.open(out).mode == "RGB"


def test_errors_are_one_line(tmp_path, capsys):
    path = _ct_file(tmp_path)
    not_dicom = tmp_path / "notes.txt"
    not_dicom.write_text("hello")
    cases = [
        ([str(tmp_path / "missing.dcm")], "no such file"),
        ([str(not_dicom)], "not a DICOM file"),
        ([str(path), "--frame", "2"], "frame 2 does not exist: the image has 1 frame"),
        ([str(path), "--frame", "0"], "--frame counts from 1"),
        ([str(path), "--voi-index", "3"], "VOI choice 3 does not exist"),
        ([str(path), "--window", "40", "0"], "width must be positive"),
        ([str(data_file("rtplan.dcm"))], "no image"),
        ([str(data_file("MR_truncated.dcm"))], "pixel data truncated"),
        ([str(path), "--out", str(tmp_path / "no" / "such" / "dir.png")], "cannot write"),
    ]
    for args, message in cases:
        assert lightbox(["render", *args, "--out", str(tmp_path / "x.png")] if "--out" not in args
                        else ["render", *args]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (args, err)
