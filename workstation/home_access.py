"""A folder readable by its user only: mode 0700 on POSIX, an access control list on Windows.

Windows ignores POSIX modes (``os.chmod`` there only toggles the read-only flag), so a home made in
``%LOCALAPPDATA%`` would inherit whatever the parent grants (administrators, SYSTEM, and on a shared
reading station sometimes every user).  The Windows equivalent of 0700 is an ACL with inheritance
removed and one entry, full control for the current user, inherited by every file and subfolder:

    icacls <dir> /inheritance:r /grant:r *<user SID>:(OI)(CI)F

``icacls`` and ``whoami`` ship with every Windows since Vista, so no extra package (pywin32) is
needed.  Administrators can still take ownership, as with ``root`` on POSIX.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

#: Runs a command and returns (exit code, standard output); a test passes a fake one.
Runner = Callable[[Sequence[str]], tuple[int, str]]


def run_command(args: Sequence[str]) -> tuple[int, str]:
    """Run ``args`` without a console window; (exit code, standard output), (-1, "") when it cannot start."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=False,
                              creationflags=flags)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("%s could not run (%s)", args[0], type(exc).__name__)
        return -1, ""
    return done.returncode, done.stdout


def current_user_sid(runner: Runner = run_command) -> str:
    """The current user's SID (``S-1-5-21-…``) from ``whoami /user``, or "" when it cannot be read.

    The SID, not the name, goes into the ACL: names are localised and may hold characters that the
    console's code page mangles.
    """
    code, out = runner(["whoami", "/user", "/fo", "csv", "/nh"])
    if code != 0:
        return ""
    # One CSV line: "DOMAIN\\user","S-1-5-21-..."
    for field in reversed(out.strip().split(",")):
        value = field.strip().strip('"')
        if value.startswith("S-1-"):
            return value
    return ""


def windows_user_only_command(path: Path, sid: str, user: str = "") -> list[str]:
    """The ``icacls`` command that leaves ``path`` to its user only (by SID, else by ``DOMAIN\\user``)."""
    who = f"*{sid}" if sid else user
    return ["icacls", str(path), "/inheritance:r", "/grant:r", f"{who}:(OI)(CI)F", "/q"]


def restrict_to_user(path: Path, *, os_name: str = os.name, runner: Runner = run_command) -> bool:
    """Make ``path`` (a folder) readable and writable by the current user only.

    Parameters
    ----------
    path : pathlib.Path
        An existing folder.
    os_name : str
        ``os.name`` (a test passes ``"nt"`` to exercise the Windows path with a fake runner).
    runner : callable
        Runs a command, returning (exit code, stdout); the Windows path only.

    Returns
    -------
    bool
        True when the restriction is in place; False (logged, never raised) when it could not be set:
        the home still works, as it did before this rule.
    """
    if os_name != "nt":
        try:
            os.chmod(path, 0o700)  # also a home made before this rule (mkdir's mode only applies to new folders)
        except OSError:
            return False
        return True
    sid = current_user_sid(runner)
    user = os.environ.get("USERNAME", "")
    domain = os.environ.get("USERDOMAIN", "")
    if not sid and not user:
        log.warning("the home's access list was not set: the current Windows user is unknown")
        return False
    code, _out = runner(windows_user_only_command(path, sid, f"{domain}\\{user}" if domain else user))
    if code != 0:
        log.warning("the home's access list was not set (icacls exit code %d)", code)
        return False
    return True
