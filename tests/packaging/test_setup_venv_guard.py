"""packaging/setup-debian.sh refuses an environment (LIGHTBOX_VENV) whose editable Lightbox belongs to another
checkout: nothing is installed into it, and the message names both checkouts.  Its own checkout's environment
is used as before; one left by a checkout that no longer exists is taken over (reinstalled from this one).

Everything happens under the test's temporary folder: a copy of the script and pyproject.toml as the "clone",
throwaway environments made with ``python -m venv --without-pip`` whose ``python`` records pip calls instead of
running them (nothing is downloaded, no real environment is touched).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "setup-debian.sh"

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("dpkg-query") is None,
                                 reason="the script is for Debian")]


def _apt_packages() -> list[str]:
    text = SCRIPT.read_text(encoding="utf-8")
    block = text[text.index("APT_PACKAGES=(") + len("APT_PACKAGES=("):]
    block = block[:block.index("\n)")]
    return [w for line in block.splitlines() for w in line.split("#")[0].split()]


def _all_apt_installed() -> bool:
    """The script installs missing Debian packages first; the test must not (it runs where they are installed)."""
    for pkg in _apt_packages():
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False)
        if "install ok installed" not in done.stdout:
            return False
    return True


def _clone(tmp: Path, name: str) -> Path:
    """A checkout as the script sees it: packaging/setup-debian.sh and pyproject.toml."""
    root = tmp / name
    (root / "packaging").mkdir(parents=True)
    shutil.copy2(SCRIPT, root / "packaging" / "setup-debian.sh")
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    # What an editable install leaves in a checkout: metadata without the install's origin.  The script runs
    # from the checkout's folder; this must not hide the environment's own record.
    egg = root / "lightbox_workstation.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: lightbox-workstation\nVersion: 0.1.0\n",
                                  encoding="utf-8")
    return root


def _venv(tmp: Path, owner: Path | None, *, stamp_of: Path | None = None) -> Path:
    """A throwaway environment; ``owner``: the checkout its editable Lightbox points to (None: no Lightbox).

    Its ``python`` runs the real interpreter, except ``-m pip`` which is written to ``pip-calls`` and succeeds.
    """
    venv = tmp / f"venv-{len(list(tmp.glob('venv-*')))}"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    real = venv / "bin" / "python-real"
    (venv / "bin" / "python").rename(real)
    wrapper = venv / "bin" / "python"
    wrapper.write_text(
        "#!/bin/bash\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$*" >> "$(dirname "$0")/../pip-calls"; exit 0; fi\n'
        'exec "$(dirname "$0")/python-real" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    purelib = subprocess.run([str(real), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    if owner is not None:
        dist = Path(purelib) / "lightbox_workstation-0.1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lightbox-workstation\nVersion: 0.1.0\n",
                                       encoding="utf-8")
        (dist / "direct_url.json").write_text(json.dumps({"dir_info": {"editable": True},
                                                          "url": owner.as_uri()}), encoding="utf-8")
    if stamp_of is not None:
        digest = hashlib.sha256((stamp_of / "pyproject.toml").read_bytes()).hexdigest()
        (venv / ".lightbox-installed").write_text(digest + "\n", encoding="utf-8")
    return venv


def _run(clone: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTBOX_")}
    env["LIGHTBOX_VENV"] = str(venv)
    return subprocess.run(["bash", str(clone / "packaging" / "setup-debian.sh"), "setup"], capture_output=True,
                          text=True, env=env, timeout=90, check=False, stdin=subprocess.DEVNULL)


def _pip_calls(venv: Path) -> list[str]:
    calls = venv / "pip-calls"
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_an_environment_of_another_checkout_is_refused(tmp_path):
    main, clone = _clone(tmp_path, "main"), _clone(tmp_path, "clone (copy)")
    venv = _venv(tmp_path, main, stamp_of=main)
    record = next(venv.rglob("direct_url.json"))
    before = record.read_text(encoding="utf-8")
    done = _run(clone, venv)
    assert done.returncode == 1, done.stderr
    assert "refusing" in done.stderr and str(main) in done.stderr and str(clone) in done.stderr
    assert "Unset LIGHTBOX_VENV" in done.stderr
    assert _pip_calls(venv) == []  # nothing installed: the other checkout's environment is as it was
    assert record.read_text(encoding="utf-8") == before
    assert "installing Debian packages" not in done.stderr  # refused before touching the system


@pytest.mark.skipif(not _all_apt_installed(), reason="the script would install Debian packages first")
def test_the_checkout_s_own_environment_is_used(tmp_path):
    clone = _clone(tmp_path, "clone")
    venv = _venv(tmp_path, clone, stamp_of=clone)
    done = _run(clone, venv)
    assert done.returncode == 0, done.stderr
    assert "ready:" in done.stderr and "refusing" not in done.stderr
    assert _pip_calls(venv) == []  # up to date: nothing to install


@pytest.mark.skipif(not _all_apt_installed(), reason="the script would install Debian packages first")
def test_an_environment_without_lightbox_or_of_a_removed_checkout_gets_this_one(tmp_path):
    clone = _clone(tmp_path, "clone")
    empty = _venv(tmp_path, None)
    done = _run(clone, empty)
    assert done.returncode == 0, done.stderr
    assert any(f"-e {clone}[test]" in call for call in _pip_calls(empty))

    gone = tmp_path / "removed-checkout"
    orphan = _venv(tmp_path, gone, stamp_of=clone)  # its stamp matches: only the owner check reinstalls
    done = _run(clone, orphan)
    assert done.returncode == 0, done.stderr
    assert "no longer exists" in done.stderr
    assert any(f"-e {clone}[test]" in call for call in _pip_calls(orphan))
