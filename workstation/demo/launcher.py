"""``lightbox demo`` without the GUI: demo studies, the cache, the embedded archive, the DEMO node.

Everything is done once and kept in the home: the generated files (per demo
version and size), their import into the cache, and their load into the
archive (checked by a study-level C-FIND, so a deleted archive database is
simply filled again).
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from workstation import config as config_mod
from workstation.config import Node, Settings
from workstation.home import Home
from workstation.net.archive import EmbeddedArchive
from workstation.net.association import NetworkError, Peer
from workstation.net.find import find
from workstation.net.send import send_files
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths

log = logging.getLogger(__name__)

DEMO_NODE = "DEMO"
DEMO_AE = "LIGHTBOXDEMO"
SIZES = ("full", "small")

Say = Callable[[str], None]


@dataclass
class DemoSession:
    archive: EmbeddedArchive
    node: Node
    files: list[Path]
    study_uids: set[str] = field(default_factory=set)

    def stop(self) -> None:
        self.archive.stop()

    @property
    def status(self) -> str:
        return f"Demo archive {self.node.name} ({self.node.ae_title}) running on 127.0.0.1:{self.archive.port}"


def demo_files(home: Home, size: str = "full", say: Say = lambda s: None) -> list[Path]:
    """The demo studies' files, generated on first use and kept in the home."""
    from workstation.demo.studies import DEMO_VERSION, generate_demo_studies

    if size not in SIZES:
        raise ValueError(f"demo size must be one of {', '.join(SIZES)}")
    folder = home.demo_dir / f"studies-v{DEMO_VERSION}-{size}"
    manifest = folder / "MANIFEST"
    if manifest.exists():
        files = [folder / line for line in manifest.read_text(encoding="utf-8").splitlines() if line]
        if files and all(p.exists() for p in files):
            return files
    say("Generating the demo studies (once; kept in the Lightbox home)…")
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    t0 = time.monotonic()
    written = generate_demo_studies(staging, size=size)
    rel = [p.relative_to(staging).as_posix() for p in written]
    (staging / "MANIFEST").write_text("\n".join(rel) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)  # a half-generated set is never taken for a whole one
    say(f"  {len(rel)} files in {time.monotonic() - t0:.1f} s")
    return [folder / r for r in rel]


def import_demo(cache: StudyCache, files: list[Path], say: Say = lambda s: None) -> set[str]:
    """Put the demo studies into the local cache (only what is missing)."""
    summary = import_paths(cache, files)
    if summary.imported:
        say(f"Imported {summary.imported} demo images into the local cache")
    if summary.failed or summary.conflicts:
        raise RuntimeError(
            f"the demo studies could not be cached: {summary.failed} failed, {summary.conflicts} conflicts"
        )
    return summary.study_uids


def _archive_studies(peer: Peer, calling_ae: str) -> set[str]:
    return {str(ds.StudyInstanceUID) for ds in find(peer, calling_ae, "STUDY", {"StudyInstanceUID": ""})}


def start_demo(home: Home, settings: Settings, *, size: str = "full", say: Say = print) -> DemoSession:
    """Generate, cache, start the archive, load it, register node DEMO; the caller stops it."""
    files = demo_files(home, size, say)
    with StudyCache.open(home) as cache:
        study_uids = import_demo(cache, files, say)
    archive = EmbeddedArchive(
        home.demo_dir / "archive",
        ae_title=DEMO_AE,
        port=settings.demo_archive_port,
        move_destinations={settings.ae_title: ("127.0.0.1", settings.storage_port)},
    )
    archive.start()
    try:
        peer = Peer("127.0.0.1", archive.port, archive.ae_title, timeout=30.0)
        have = _archive_studies(peer, settings.ae_title)
        if not study_uids <= have:
            say(f"Loading the demo studies into the demo archive ({len(files)} images)…")
            report = send_files(files, peer, settings.ae_title)
            if not report.ok:
                raise RuntimeError(f"the demo archive did not take every demo image: {report.summary()}")
        node = Node(name=DEMO_NODE, ae_title=archive.ae_title, host="127.0.0.1", port=archive.port, retrieve="move")
        settings.upsert_node(node)
        config_mod.save(settings, home.config_file)
    except (NetworkError, RuntimeError):
        archive.stop()
        raise
    except BaseException:
        archive.stop()
        raise
    log.info("demo archive ready on port %d with %d studies", archive.port, len(study_uids))
    return DemoSession(archive=archive, node=node, files=files, study_uids=study_uids)
