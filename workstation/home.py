"""Where Lightbox keeps its config, study cache and logs.

``LIGHTBOX_HOME`` (or ``lightbox --home DIR``) puts everything under one
directory, which is what tests and portable installs use.  Without it the
platform's user directories apply (platformdirs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Lightbox"
HOME_ENV = "LIGHTBOX_HOME"


@dataclass(frozen=True)
class Home:
    """The directories of one Lightbox installation for one user."""

    config_dir: Path
    data_dir: Path
    log_dir: Path

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
