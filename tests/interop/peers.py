"""Real archives for interoperability tests: Orthanc and DCMTK's dcmqrscp on 127.0.0.1.

Each one gets a generated config on free ports in its own folder, is started as
a child process and waits (bounded) until it answers C-ECHO, and ``stop()``
terminates and reaps it.  Facts:

* Orthanc 1.10 refuses FIND/GET/MOVE from AEs not in ``DicomModalities`` and
  moves only to listed destinations; it listens on all interfaces (there is no
  bind option), so tests only ever contact it on 127.0.0.1; its HTTP server
  refuses remote clients with ``RemoteAccessAllowed: false``.
* dcmqrscp checks the called AE title, needs a host table entry for every move
  destination, and must run in its default forking mode.
* DCMTK's tools need ``TCP_NODELAY=1`` in their environment on loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from workstation.config import Node
from workstation.net.association import Peer
from workstation.net.echo import echo

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
DCMQRSCP = shutil.which("dcmqrscp") or "/usr/bin/dcmqrscp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dcmtk_env() -> dict[str, str]:
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    return env


@dataclass
class Modality:
    """An AE the archive knows (a C-MOVE destination and/or an allowed caller)."""

    ae_title: str
    port: int
    host: str = "127.0.0.1"


@dataclass
class ArchiveProcess:
    """A running archive: where it listens and how to stop it."""

    name: str
    ae_title: str
    port: int
    root: Path
    proc: subprocess.Popen | None = None
    http_port: int = 0
    log_path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def peer(self) -> Peer:
        return Peer("127.0.0.1", self.port, self.ae_title, timeout=15)

    def node(self, name: str | None = None, **kw) -> Node:
        return Node(name=name or self.name, ae_title=self.ae_title, host="127.0.0.1", port=self.port, **kw)

    @property
    def dicomweb_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        probe = Peer("127.0.0.1", self.port, self.ae_title, timeout=2)
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            if echo(probe, "LIGHTBOX").ok:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer C-ECHO within {timeout} s: {self.log_tail()}")

    def log_tail(self, n: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def kill(self) -> None:
        """SIGKILL the archive (and its forked children): a crash in the middle of something."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # dcmqrscp's forked children may outlive the parent for a moment
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def start_orthanc(root: Path, modalities: list[Modality], *, ae_title: str = "ORTHANC", dicomweb: bool = True,
                  tls: dict | None = None, extra: dict | None = None) -> ArchiveProcess:
    """Start Orthanc with ``modalities`` allowed to do everything, on free ports."""
    root.mkdir(parents=True, exist_ok=True)
    port, http_port = free_port(), free_port()
    config = {
        "Name": "LightboxTestOrthanc",
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "index"),
        "DicomAet": ae_title,
        "DicomPort": port,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": False,
        "DicomModalities": {
            m.ae_title.lower(): {
                "AET": m.ae_title, "Host": m.host, "Port": m.port,
                "AllowEcho": True, "AllowFind": True, "AllowGet": True, "AllowMove": True,
                "AllowStore": True, "AllowStorageCommitment": True,
            }
            for m in modalities
        },
        "DicomScpTimeout": 30,
        # Its default (Latin1) cannot hold Japanese names: sites serving Asian names set UTF-8.
        "DefaultEncoding": "Utf8",
        "DicomAssociationCloseDelay": 0,
        "StableAge": 1,
        "ConcurrentJobs": 2,
        "Plugins": [DICOMWEB_PLUGIN] if dicomweb else [],
        "DicomWeb": {"Enable": dicomweb, "Root": "/dicom-web/", "EnableWado": True, "StudiesMetadata": "Full"},
    }
    if tls:
        config.update(tls)
    config.update(extra or {})
    (root / "orthanc.json").write_text(json.dumps(config, indent=1))
    log_path = root / "orthanc.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT,
                                cwd=root, start_new_session=True)
    arc = ArchiveProcess("orthanc", ae_title, port, root, proc, http_port, log_path)
    try:
        if tls:
            _wait_port(arc, 30)
        else:
            arc.wait_ready(30)
        if dicomweb:
            _wait_http(arc, 30)
    except BaseException:
        arc.stop()
        raise
    return arc


def _wait_port(arc: ArchiveProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if arc.proc is not None and arc.proc.poll() is not None:
            raise RuntimeError(f"{arc.name} exited: {arc.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", arc.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{arc.name} did not listen within {timeout} s")


def _wait_http(arc: ArchiveProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{arc.http_port}/system", timeout=2) as rsp:
                if rsp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Orthanc's HTTP server did not answer within {timeout} s")


def orthanc_instance_count(arc: ArchiveProcess) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{arc.http_port}/statistics", timeout=10) as rsp:
        return int(json.loads(rsp.read())["CountInstances"])


def start_dcmqrscp(root: Path, modalities: list[Modality], *, ae_title: str = "DCMQRSCP",
                   options: tuple[str, ...] = ()) -> ArchiveProcess:
    """Start dcmqrscp (forking mode) with a host table of ``modalities`` as move destinations.

    ``options`` are added to its command line (``-QS -QO``: patient root only; ``-XF -XM``: strict identifiers).
    """
    root.mkdir(parents=True, exist_ok=True)
    db = root / "db"
    db.mkdir(exist_ok=True)
    port = free_port()
    hosts = "\n".join(f"{m.ae_title.lower()} = ({m.ae_title}, {m.host}, {m.port})" for m in modalities)
    config = f"""NetworkTCPPort  = {port}
MaxPDUSize      = 65536
MaxAssociations = 16

HostTable BEGIN
{hosts}
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
{ae_title}  {db}  RW  (500, 1024mb)  ANY
AETable END
"""
    (root / "dcmqrscp.cfg").write_text(config)
    log_path = root / "dcmqrscp.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([DCMQRSCP, "-c", str(root / "dcmqrscp.cfg"), "-ll", "warn", *options],
                                stdout=log, stderr=subprocess.STDOUT, cwd=root, env=dcmtk_env(),
                                start_new_session=True)
    arc = ArchiveProcess("dcmqrscp", ae_title, port, root, proc, 0, log_path)
    try:
        arc.wait_ready(30)
    except BaseException:
        arc.stop()
        raise
    return arc
