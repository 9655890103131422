"""An HL7 peer for tests, built on hl7apy: an MLLP server that records what it gets and acknowledges it,
and an MLLP client that sends orders and ADT messages and reads the answer.

Everything binds to and connects to 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import socket
import threading
import time

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.mllp import AbstractErrorHandler, AbstractHandler, MLLPServer
from hl7apy.parser import parse_message

SB, EB = "\x0b", "\x1c\r"


def ack_for(er7: str, code: str, text: str = "") -> str:
    """An ACK to ``er7`` made with hl7apy (MSA-1 ``code``, MSA-2 its control ID)."""
    incoming = parse_message(er7.replace("\n", "\r"), validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
    ack = Message("ACK", version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    ack.msh.msh_3 = "TESTRIS"
    ack.msh.msh_9 = "ACK^R01^ACK"
    ack.msh.msh_10 = "ACK" + str(int(time.time() * 1000))
    ack.msh.msh_11 = "P"
    msa = ack.add_segment("MSA")
    msa.msa_1 = code
    msa.msa_2 = incoming.msh.msh_10.value
    if text:
        msa.msa_3 = text
    return ack.to_er7()


class RisPeer:
    """A RIS receiving ORU^R01 and order status changes (ORM^O01): each message is recorded (hl7apy-parsed)
    and answered with ``self.code``.

    ``forward``: MLLP ports of other stations' listeners; each message accepted is passed on to them as a
    RIS shares a reading status with the department (their answers are kept in ``forwarded``).
    """

    def __init__(self, port: int = 0, code: str = "AA", text: str = "", forward: list[int] | None = None) -> None:
        self.code, self.text = code, text
        self.received: list[str] = []
        self.forward = list(forward or [])
        self.forwarded: list[str] = []
        peer = self

        class Handler(AbstractHandler):
            def reply(self) -> str:
                peer.received.append(self.incoming_message)
                if peer.code == "AA":
                    for station in peer.forward:
                        peer.forwarded.append(send_mllp(station, self.incoming_message.replace("\n", "\r")))
                return SB + ack_for(self.incoming_message, peer.code, peer.text) + EB

        class Error(AbstractErrorHandler):
            def reply(self) -> str:
                return SB + ack_for(self.incoming_message, "AR", "unsupported") + EB

        routes = {kind: (Handler,) for kind in ("ORU^R01", "ORU^R01^ORU_R01", "ORM^O01", "ORM^O01^ORM_O01")}
        self.server = MLLPServer("127.0.0.1", port, {**routes, "ERR": (Error,)}, timeout=5)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def __enter__(self) -> RisPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def parsed(self) -> list[Message]:
        return [parse_message(m, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False) for m in self.received]


def send_mllp(port: int, er7: str, timeout: float = 10.0) -> str:
    """Send one message to 127.0.0.1:``port`` and return the answer without its framing."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall((SB + er7 + EB).encode("utf-8"))
        data = b""
        while b"\x1c" not in data and time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8").strip(SB).split("\x1c")[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(kind: str, segments: dict[str, dict[str, str]], control_id: str = "CTL1", event: str = "") -> str:
    """A message of structure ``kind`` (``ORM_O01``, ``ADT_A39`` …) made with hl7apy.

    ``event`` is MSH-9's type^trigger when it differs from the structure's (``ADT^A40`` is an ADT_A39);
    segments are given as {"PID": {"pid_3": "..."}}.
    """
    m = Message(kind, version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    m.msh.msh_3 = "TESTRIS"
    m.msh.msh_9 = (event or kind.replace("_", "^", 1)) + "^" + kind
    m.msh.msh_10 = control_id
    m.msh.msh_11 = "P"
    m.msh.msh_18 = "UNICODE UTF-8"
    for name, values in segments.items():
        seg = m.add_segment(name)
        for field, value in values.items():
            setattr(seg, field, value)
    return m.to_er7()
