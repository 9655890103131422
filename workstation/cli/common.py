"""What every subcommand shares: the home, settings, the cache, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from collections.abc import Iterable, Sequence

from workstation import config as config_mod
from workstation import logs
from workstation.home import Home
from workstation.store.cache import StudyCache


# What ``add_subparsers`` returns, which each area's ``register`` fills in.  A string: argparse's
# action class is not subscriptable at run time.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CliError(Exception):
    """A failure to report in one line; ``exit_code`` is the process's exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Context:
    home: Home
    debug: bool = False
    _cache: StudyCache | None = field(default=None, repr=False)
    _settings: config_mod.Settings | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        return cls(home=Home.resolve(args.home), debug=args.debug)

    def configure_logging(self, console: bool) -> None:
        logs.configure(self.home.log_dir, debug=self.debug, console=console and self.debug)

    @property
    def cache(self) -> StudyCache:
        if self._cache is None:
            self._cache = StudyCache.open(self.home)
        return self._cache

    @property
    def settings(self) -> config_mod.Settings:
        if self._settings is None:
            try:
                self._settings = config_mod.load(self.home.config_file)
            except config_mod.ConfigError as exc:
                raise CliError(str(exc)) from None
            for note in self._settings.warnings:  # e.g. a broken user file ignored for the system's
                print(f"lightbox: warning: {note}", file=sys.stderr)
            display = self._settings.extra.get("name_display")
            if display:  # the site's choice of PN component groups, for reports and PDFs made here
                from workstation.dicom.person_name import set_name_style

                try:
                    set_name_style(str(display))
                except ValueError as exc:
                    print(f"lightbox: warning: setting name_display ignored: {exc}", file=sys.stderr)
        return self._settings

    def save_settings(self) -> None:
        config_mod.save(self.settings, self.home.config_file)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def print_json(data: Any) -> None:
    # One write: json.dump writes each token separately (96,000 writes for 1,000 studies).
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    rows = [["" if v is None else str(v) for v in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, v in enumerate(r):
            # UIDs (the last column) are never cut: people copy them into other commands
            widths[i] = max(widths[i], len(v)) if i == len(headers) - 1 else min(max(widths[i], len(v)), 40)
    def fmt(values: Sequence[str]) -> str:
        return "  ".join(v[: widths[i]].ljust(widths[i]) for i, v in enumerate(values)).rstrip()
    print(fmt(headers))
    print(fmt(["-" * w for w in widths]))
    for r in rows:
        print(fmt(r))


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def format_date(da: str) -> str:
    """DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else unchanged."""
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 and da.isdigit() else da
