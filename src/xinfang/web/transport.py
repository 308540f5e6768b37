"""The HTTP protocol uvicorn runs: its h11 implementation with TCP_NODELAY set on every connection.

With `--workers N` uvicorn hands the listening socket to its worker processes, and the connections accepted there
are not recognised as TCP by asyncio, which therefore leaves Nagle's algorithm on. A response written in two
pieces then waits for the client's delayed ACK: every request took 40+ ms more with two workers than with one
(measured with bench/load.py). Setting the option ourselves makes both modes equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # not a TCP socket after all: nothing to tune
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
