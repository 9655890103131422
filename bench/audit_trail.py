"""What the audit trail costs: recording an event (XML, hash chain, fsync), verifying the chain, and
sending the queue to rsyslog over TLS (Debian's rsyslog, started here on 127.0.0.1).

Run: .venv/bin/python -m bench.audit_trail [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.audit.rsyslog_peer import RsyslogRepository, available
from workstation import audit, config
from workstation.audit import events
from workstation.home import Home


def main(n: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home.single(Path(tmp) / "home").ensure()
        repo = RsyslogRepository(Path(tmp) / "rsyslog") if available() else None
        if repo is not None:
            settings = config.Settings()
            settings.extra["audit"] = {"repository": f"127.0.0.1:{repo.port}", "ca_file": str(repo.pki["ca"])}
            config.save(settings, home.config_file)
        auditor = audit.auditor_for(home)
        queue_only = audit.Auditor(auditor.store.folder, auditor.identity, None)  # record without sending
        started = time.perf_counter()
        for i in range(n):
            queue_only.record(events.instances_accessed, [f"1.2.826.0.1.{i}"], [(f"P{i % 50}", "Doe^Jane")])
        record_s = time.perf_counter() - started
        started = time.perf_counter()
        result = auditor.store.verify()
        verify_s = time.perf_counter() - started
        assert result.ok
        print(f"record (XML + hash chain + fsync): {record_s / n * 1000:.2f} ms per event ({n} events)")
        print(f"verify: {verify_s * 1000:.0f} ms for {n} records "
              f"({auditor.store.path.stat().st_size / n:.0f} bytes each)")
        if repo is None:
            print("rsyslog with rsyslog-gnutls not installed: no delivery figure")
            return
        repo.start()
        try:
            started = time.perf_counter()
            sent, pending = auditor.flush()
            got = repo.wait_for(n, timeout=60)
            flush_s = time.perf_counter() - started
            print(f"queue to rsyslog over TLS: {sent} sent, {pending} pending, {len(got)} in rsyslog's file "
                  f"after {flush_s * 1000:.0f} ms ({n / flush_s:.0f} events/s)")
        finally:
            repo.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
