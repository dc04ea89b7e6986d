"""Port numbers of the zoo's servers (the live explainer, the model server), checked before a
server starts: out of range is an argument error, a busy port a message within a second, where
the servers themselves took 15 s and a traceback to fail (issue 30).
"""

from __future__ import annotations

import argparse
import errno
import socket


class PortError(ValueError):
    """A port the server cannot listen on; the message says why and what to do."""


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1-65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is a whole number from 1 to 65535")
    return int(text)


def check_free(host: str, port: int) -> None:
    """PortError unless `host`:`port` can be listened on now (it may still be taken between this
    check and the server's own bind; the server then fails as it always did)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and Werkzeug do
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PortError(f"port {port} on {host} is in use (another server, or this one "
                                "still running): stop it or choose another --port") from None
            if err.errno == errno.EACCES:
                raise PortError(f"port {port} on {host} needs privileges this user lacks: "
                                "choose a port above 1023") from None
            raise PortError(f"cannot listen on {host}:{port} ({err.strerror}): check --host "
                            "and --port") from None
