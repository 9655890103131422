"""Peak memory of ``lightbox listen`` while it receives one large object.

    python -m bench.receive_memory --mib 512

Pushes one CT whose Pixel Data is ``--mib`` MiB to a listener in its own
process and prints the listener's peak resident memory (VmHWM) before and
after, and the time taken.  The storage SCP writes received data to a file as
its PDUs arrive, so the growth stays near one PDU, not twice the object.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from bench.kill_listener import LISTENER_AE, SENDER_AE, _configure, _free_port, _instance


def _hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(mib: int) -> dict:
    from pynetdicom import AE

    with tempfile.TemporaryDirectory(prefix="lightbox-recv-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        port = _free_port()
        _configure(home, port)
        env = dict(os.environ, LIGHTBOX_HOME=str(home))
        proc = subprocess.Popen([sys.executable, "-m", "workstation", "--home", str(home), "listen"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            while "Listening" not in (proc.stdout.readline() or "Listening"):
                pass
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            idle = _hwm_mib(proc.pid)
            ds = _instance(generate_uid(), generate_uid(), 1)
            side = int((mib * (1 << 20) // 2) ** 0.5)
            ds.Rows = ds.Columns = side
            ds.PixelData = np.zeros(side * side, dtype="<i2").tobytes()
            ae = AE(SENDER_AE)
            ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 300
            ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
            assoc = ae.associate("127.0.0.1", port, ae_title=LISTENER_AE)
            started = time.monotonic()
            status = assoc.send_c_store(ds)
            elapsed = time.monotonic() - started
            assoc.release()
            return {"object_mib": round(len(ds.PixelData) / (1 << 20)), "status": int(status.Status),
                    "listener_idle_mib": round(idle), "listener_peak_mib": round(_hwm_mib(proc.pid)),
                    "seconds": round(elapsed, 1)}
        finally:
            proc.terminate()
            proc.wait(60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=512)
    args = parser.parse_args(argv)
    print(measure(args.mib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
