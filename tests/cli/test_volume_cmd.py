"""lightbox volume, mpr and render3d on a cached series; bad input gets one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.model.conftest import write_stack
from workstation.cli import main
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


@pytest.fixture
def series(lightbox_home, tmp_path):
    def sphere(i):
        yy, xx = np.mgrid[:32, :32]
        return np.where((xx - 16) ** 2 + (yy - 16) ** 2 + (i - 8) ** 2 * 4 <= 100, 1300, 0)

    uid = write_stack(tmp_path / "s", [(0, 0, z * 2.0) for z in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16)],
                      size=32, values=sphere, extra=lambda i, ds: setattr(ds, "RescaleIntercept", -1000))
    with StudyCache.open(Home.single(lightbox_home)) as cache:
        import_paths(cache, [tmp_path / "s"])
    return uid


def test_volume_prints_stacks_geometry_and_gaps(series, capsys):
    assert main(["volume", series]) == 0
    out = capsys.readouterr().out
    assert "stack 1: axial 32 x 32 x 17  (main)" in out
    assert "spacing    (0.5000, 0.5000, 2.0000) mm" in out
    assert "! 2 slices missing between z = 20.00 and z = 26.00 mm" in out
    assert main(["volume", series, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["stacks"][0]["gaps"] == [{"after_z": 20.0, "before_z": 26.0, "missing": 2}]


def test_mpr_and_render3d_write_pngs(series, tmp_path, capsys):
    out = tmp_path / "mpr.png"
    assert main(["mpr", series, "--plane", "sagittal", "--rotate", "z:15", "--slab", "4", "--mode", "avg",
                 "--window", "40", "400", "--size", "96x64", "--out", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert out.is_file() and d["plane"] == "sagittal" and d["window"] == [40, 400]
    out3 = tmp_path / "vr.png"
    assert main(["render3d", series, "--preset", "ct-bone", "--azimuth", "45", "--size", "64x64",
                 "--out", str(out3)]) == 0
    assert "CPU ray casting" in capsys.readouterr().out and out3.is_file()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["volume", "1.2.3"], "no series 1.2.3 in the cache"),
        (["mpr", "{s}", "--rotate", "z", "--out", "x.png"], "invalid --rotate 'z'"),
        (["mpr", "{s}", "--position", "1,2", "--out", "x.png"], "invalid position '1,2'"),
        (["mpr", "{s}", "--size", "big", "--out", "x.png"], "invalid size 'big'"),
        (["render3d", "{s}", "--preset", "nope", "--out", "x.png"], "no volume rendering preset 'nope'"),
        (["render3d", "{s}", "--clip-box", "0,1,0,1,0,2", "--out", "x.png"], "clip box fractions"),
        (["mpr", "{s}", "--stack", "3", "--out", "x.png"], "there is no stack 3"),
    ],
)
def test_bad_input_gives_one_line(series, capsys, argv, message):
    assert main([a.replace("{s}", series) for a in argv]) != 0
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
