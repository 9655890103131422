"""Where Lightbox keeps its config, study cache and logs.

``LIGHTBOX_HOME`` (or ``lightbox --home DIR``) puts everything under one
directory, which is what tests and portable installs use.  Without it the
platform's user directories apply (platformdirs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

APP_NAME = "Lightbox"
HOME_ENV = "LIGHTBOX_HOME"


USERS_DIR = "users"


def user_folder_name(login: str) -> str:
    """A folder name for ``login``: letters (any script), digits, ``.-_`` kept, case folded (directories
    match logins without regard to case), anything else ``_`` plus a short hash so two logins never
    share a folder."""
    import hashlib

    folded = login.strip().casefold()
    safe = "".join(c if (c.isalnum() or c in ".-_") else "_" for c in folded)
    while ".." in safe:
        safe = safe.replace("..", "_")
    safe = safe.strip(".") or "_"
    if safe != folded:
        safe += "-" + hashlib.sha256(folded.encode("utf-8")).hexdigest()[:8]
    return safe


@dataclass(frozen=True)
class Home:
    """The directories of one Lightbox installation for one user.

    On a shared reading station with a site login, :meth:`for_user` gives each reader a home of their
    own inside the station's: settings, hanging protocols, window placement, measurements and other
    unsaved work under ``<data dir>/users/<login>/``, while the study cache, its index and the audit
    trail stay the station's (``data_dir``).
    """

    config_dir: Path
    data_dir: Path
    log_dir: Path
    #: The site-login user this home belongs to ("" for the station's or an OS user's home).
    user: str = ""
    #: Where the station's own ``config.json`` is, in a user's home (None: ``config_dir``).
    station_config_dir: Path | None = None

    @classmethod
    def single(cls, root: str | os.PathLike[str]) -> Home:
        root = Path(root).expanduser().resolve()
        return cls(config_dir=root, data_dir=root, log_dir=root / "logs")

    @classmethod
    def platform_default(cls) -> Home:
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Home:
        """The home chosen by ``--home``, else ``LIGHTBOX_HOME``, else the platform's."""
        if explicit:
            return cls.single(explicit)
        env = os.environ.get(HOME_ENV)
        if env:
            return cls.single(env)
        return cls.platform_default()

    # Per-user homes --------------------------------------------------------------
    def for_user(self, login: str) -> Home:
        """The home of ``login`` on this station (created, private to the OS user, see :meth:`ensure`).

        A reader's first settings are a copy of the station's (nodes, AE title, reporting destination);
        what the site wants every reader to share belongs in the system-wide layer
        (:mod:`workstation.config_layers`), which lies under every reader's file.
        """
        import shutil

        station = self.station()
        user_dir = station.data_dir / USERS_DIR / user_folder_name(login)
        home = replace(station, config_dir=user_dir, user=login.strip(), station_config_dir=station.config_dir)
        user_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not home.config_file.exists() and station.config_file.exists():
            shutil.copy2(station.config_file, home.config_file)
        return home

    def station(self) -> Home:
        """The station's home (this one when it is not a reader's)."""
        if self.station_config_dir is None:
            return self
        return replace(self, config_dir=self.station_config_dir, user="", station_config_dir=None)

    @property
    def station_config_file(self) -> Path:
        """The station's ``config.json``: the site login and the audit repository are read from it."""
        return (self.station_config_dir or self.config_dir) / "config.json"

    @property
    def user_data_dir(self) -> Path:
        """Where a reader's own work goes (measurements, unsaved work): their folder, else ``data_dir``."""
        return self.config_dir if self.user else self.data_dir

    # Locations inside the home -------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def cache_dir(self) -> Path:
        """Root of the study files: ``cache/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm``."""
        return self.data_dir / "cache"

    @property
    def index_file(self) -> Path:
        return self.data_dir / "index.sqlite"

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    def ensure(self) -> Home:
        """Create the folders, readable by their user only (patient data and the audit trail live here):
        0700 on POSIX, an access list of the user alone on Windows (see :mod:`workstation.home_access`)."""
        from workstation.home_access import restrict_to_user

        for d in (self.config_dir, self.data_dir, self.log_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        for d in sorted({self.config_dir, self.data_dir, self.log_dir}):
            restrict_to_user(d)
        return self
