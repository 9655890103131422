"""The home is its user's only: 0700 on POSIX; on Windows an access list of the current user alone (the
icacls command line checked with a fake runner here, the real thing where Windows runs the tests)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from workstation.home import Home
from workstation.home_access import current_user_sid, restrict_to_user, windows_user_only_command

SID = "S-1-5-21-1004336348-1177238915-682003330-1001"


class FakeWindows:
    """Answers ``whoami /user`` and records every ``icacls`` call."""

    def __init__(self, whoami: tuple[int, str] = (0, f'"station7\\\\reader","{SID}"\r\n'), icacls_code: int = 0):
        self.calls: list[list[str]] = []
        self.whoami, self.icacls_code = whoami, icacls_code

    def __call__(self, args):
        self.calls.append(list(args))
        if args[0] == "whoami":
            return self.whoami
        return self.icacls_code, "Successfully processed 1 files; Failed processing 0 files"


def test_windows_home_gets_an_access_list_of_its_user_alone(tmp_path):
    runner = FakeWindows()
    assert restrict_to_user(tmp_path, os_name="nt", runner=runner)
    assert runner.calls == [
        ["whoami", "/user", "/fo", "csv", "/nh"],
        # inheritance removed (nothing from %LOCALAPPDATA%'s parents), full control for the user's SID only,
        # inherited by every file and folder below (OI)(CI)
        ["icacls", str(tmp_path), "/inheritance:r", "/grant:r", f"*{SID}:(OI)(CI)F", "/q"],
    ]


def test_windows_without_a_sid_grants_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("USERNAME", "reader")
    monkeypatch.setenv("USERDOMAIN", "STATION7")
    runner = FakeWindows(whoami=(1, ""))
    assert restrict_to_user(tmp_path, os_name="nt", runner=runner)
    assert runner.calls[-1][3:5] == ["/grant:r", "STATION7\\reader:(OI)(CI)F"]


def test_a_failing_icacls_is_reported_not_raised(tmp_path, caplog):
    runner = FakeWindows(icacls_code=5)
    assert not restrict_to_user(tmp_path, os_name="nt", runner=runner)
    assert "icacls exit code 5" in caplog.text


def test_unknown_windows_user_sets_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("USERNAME", raising=False)
    runner = FakeWindows(whoami=(1, ""))
    assert not restrict_to_user(tmp_path, os_name="nt", runner=runner)
    assert [c[0] for c in runner.calls] == ["whoami"]


def test_sid_is_read_from_whoami_csv():
    assert current_user_sid(lambda _a: (0, f'"dom\\\\Ölçer","{SID}"\n')) == SID
    assert current_user_sid(lambda _a: (0, "garbage")) == ""
    assert windows_user_only_command(Path("C:/x"), "", "D\\u")[4] == "D\\u:(OI)(CI)F"


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_posix_home_is_0700_even_when_made_before_the_rule(tmp_path):
    root = tmp_path / "home"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    home = Home.single(root).ensure()
    for d in (home.config_dir, home.data_dir, home.log_dir, home.cache_dir):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d


@pytest.mark.skipif(os.name != "nt", reason="Windows access lists")
def test_windows_home_acl_is_real(tmp_path):
    home = Home.single(tmp_path / "home").ensure()
    out = subprocess.run(["icacls", str(home.data_dir)], capture_output=True, text=True, check=True).stdout
    assert "(I)" not in out.splitlines()[0]  # no inherited entry on the home itself
    assert len([line for line in out.splitlines() if ":(" in line]) == 1
