"""A command loads only what it needs: `lightbox studies` starts without Qt, VTK, SimpleITK, highdicom,
pynetdicom or pydicom (start-up is mostly imports), and the command table matches what the areas register."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from workstation.cli import _AREAS, COMMAND_AREAS, _area, command_of

HEAVY = ("PySide6", "vtkmodules", "vtk", "SimpleITK", "highdicom", "pynetdicom", "pydicom")


def _loaded_by(home, *command: str) -> tuple[list[str], str]:
    probe = (
        "import sys\n"
        "from workstation.cli import main\n"
        f"code = main(['--home', {str(home)!r}, *{list(command)!r}])\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stderr.strip().splitlines()[-1].replace("'", '"')), run.stdout


def test_studies_loads_no_heavy_package(tmp_path):
    from tests.viewer_phantom import phantom_study
    from workstation.home import Home
    from workstation.store.cache import StudyCache

    cache = StudyCache.open(Home.single(tmp_path / "home"))
    try:
        phantom_study(cache, tmp_path / "ph", 3)
    finally:
        cache.close()
    loaded, out = _loaded_by(tmp_path / "home", "studies", "--json")
    assert loaded == []
    assert len(json.loads(out)) == 1  # and it did list the study


def test_studies_as_a_table_of_an_empty_cache_loads_no_heavy_package(tmp_path):
    loaded, out = _loaded_by(tmp_path / "home", "studies")
    assert loaded == [] and "Study UID" in out


def test_every_registered_command_is_in_the_table_under_its_area():
    registered = {}
    for name in _AREAS:
        sub = argparse.ArgumentParser().add_subparsers()
        _area(name).register(sub)
        for command in sub.choices:
            registered[command] = name
    assert registered == COMMAND_AREAS


@pytest.mark.parametrize("argv, command", [
    (["studies", "--json"], "studies"),
    (["--home", "/x", "--debug", "series", "1.2"], "series"),
    (["--home=/x", "render", "a"], "render"),
    (["--debug"], None),
    ([], None),
])
def test_the_command_word_is_found_after_global_options(argv, command):
    assert command_of(argv) == command


def test_full_help_still_lists_every_command(capsys):
    from workstation.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for command in COMMAND_AREAS:
        assert command in text
