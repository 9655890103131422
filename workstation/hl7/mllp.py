"""MLLP (Minimal Lower Layer Protocol) over TCP: send one message and read its acknowledgement; listen.

The listener is hl7apy's :class:`~hl7apy.mllp.MLLPServer` run on a thread; the
client side (hl7apy has none) frames a message, sends it and reads the answer
within a bounded time.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from hl7apy.mllp import AbstractErrorHandler, AbstractHandler, MLLPRequestHandler, MLLPServer

START, END = b"\x0b", b"\x1c\x0d"
MAX_ANSWER = 1 << 20  # an acknowledgement is small; a peer streaming more is cut off


class MllpError(OSError):
    """The RIS could not be reached or did not answer in time (worth trying again later)."""


def frame(message: str, encoding: str = "utf-8") -> bytes:
    return START + message.encode(encoding) + END


def send(host: str, port: int, message: str, *, encoding: str = "utf-8", timeout: float = 30.0) -> str:
    """Send ``message`` and return the peer's answer (an ACK), unframed.

    Raises
    ------
    MllpError
        Connection refused or lost, no complete answer within ``timeout`` seconds, or text
        the character set cannot carry.
    """
    try:
        data_out = frame(message, encoding)
    except (UnicodeEncodeError, LookupError):
        # (the characters themselves are not named: they may be a patient's name)
        raise MllpError(f"the message holds characters the HL7 character set ({encoding}) cannot carry; "
                        "choose UNICODE UTF-8 in Settings › RIS") from None
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 10.0)) as sock:
            sock.sendall(data_out)
            data = b""
            while not data.rstrip(b"\r\n").endswith(b"\x1c") and len(data) < MAX_ANSWER:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MllpError(f"the RIS at {host}:{port} did not acknowledge within {timeout:g} s")
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        raise MllpError(f"the RIS at {host}:{port} did not acknowledge within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise MllpError(f"the RIS at {host}:{port} refused the connection (is it running?)") from None
    except OSError as exc:
        if isinstance(exc, MllpError):
            raise
        raise MllpError(f"cannot reach the RIS at {host}:{port}: {exc.strerror or exc}") from None
    start, end = data.find(START), data.rfind(b"\x1c")
    if start < 0 or end < start:
        raise MllpError(f"the RIS at {host}:{port} closed the connection without an acknowledgement")
    return data[start + 1:end].decode(encoding, errors="replace")


class _Handler(AbstractHandler):  # type: ignore[misc]  # hl7apy ships no type information
    def __init__(self, message: str, handle: Callable[[str], str], encoding: str) -> None:
        super().__init__(message)
        self.handle, self.encoding = handle, encoding

    def reply(self) -> str:
        # hl7apy's request handler encodes what we return: frame it ourselves (as text).
        return (START + self.handle(self.incoming_message).encode(self.encoding) + END).decode(self.encoding)


class _ErrorHandler(AbstractErrorHandler):  # type: ignore[misc]  # hl7apy ships no type information
    def __init__(self, exc: Exception, message: str, handle_error: Callable[[Exception, str], str],
                 encoding: str) -> None:
        super().__init__(exc, message)
        self.handle_error, self.encoding = handle_error, encoding

    def reply(self) -> str:
        return (START + self.handle_error(self.exc, self.incoming_message).encode(self.encoding) + END).decode(
            self.encoding)


class MllpListener:
    """An MLLP server on a thread: ``handle(message) -> ack`` for each message type in ``types``.

    Other types (and unparsable messages) get ``handle_error(exc, message) -> ack``.
    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, host: str, port: int, types: list[str], handle: Callable[[str], str],
                 handle_error: Callable[[Exception, str], str], *, encoding: str = "utf-8",
                 timeout: float = 10.0) -> None:
        handler_class = type("_Request", (MLLPRequestHandler,), {"encoding": encoding})
        handlers: dict[str, tuple[type[_Handler] | type[_ErrorHandler], Callable[..., str], str]] = {
            t: (_Handler, handle, encoding) for t in types}
        handlers["ERR"] = (_ErrorHandler, handle_error, encoding)
        self.server = MLLPServer(host, port, handlers, timeout=timeout, request_handler_class=handler_class)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> MllpListener:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="hl7-mllp-listener", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> MllpListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
