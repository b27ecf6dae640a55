"""A fail-closed network guard: while active, any attempt to use an internet socket is an error.

Scoring must never touch the network (the model package is verified and loaded from disk, the
encoder is loaded with ``local_files_only``). :func:`no_network` enforces it: creating an
``AF_INET``/``AF_INET6`` socket, connecting or sending on any socket, and resolving a host name all
raise ``RESOURCE.NETWORK_FORBIDDEN``. Local ``AF_UNIX`` socket *creation* stays allowed (some
runtimes use socketpairs internally) but connecting one is refused too. The guard restores the
original functions on exit, including on error.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from ledger.errors import ResourceError

_LOCK = threading.Lock()
_DEPTH = 0
_SAVED: dict[str, Any] = {}
_INET = {getattr(socket, "AF_INET", 2), getattr(socket, "AF_INET6", 10)}


def _refuse(what: str) -> ResourceError:
    return ResourceError(
        "NETWORK_FORBIDDEN",
        f"network access attempted while scoring ({what}); scoring is offline by design",
        "scoring reads only the local model package and input files; report the code path with --debug",
    )


class _GuardedSocket(socket.socket):
    """``socket.socket`` replacement used while the guard is active."""

    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:  # noqa: A002
        fam = socket.AF_INET if family == -1 else family
        if fileno is None and int(fam) in _INET:
            raise _refuse(f"socket(family={int(fam)})")
        super().__init__(family, type, proto, fileno)

    def connect(self, address: Any) -> None:  # noqa: D102
        raise _refuse(f"connect to {address!r}")

    def connect_ex(self, address: Any) -> int:  # noqa: D102
        raise _refuse(f"connect to {address!r}")

    def sendto(self, *args: Any) -> int:  # noqa: D102
        raise _refuse("sendto")


def _blocked(name: str):
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise _refuse(f"{name}{args[:1]!r}")

    fn.__name__ = name
    return fn


def _install() -> None:
    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_server"):
        _SAVED[name] = getattr(socket, name)
    socket.socket = _GuardedSocket  # type: ignore[misc]
    socket.create_connection = _blocked("create_connection")  # type: ignore[assignment]
    socket.getaddrinfo = _blocked("getaddrinfo")  # type: ignore[assignment]
    socket.gethostbyname = _blocked("gethostbyname")  # type: ignore[assignment]
    socket.gethostbyname_ex = _blocked("gethostbyname_ex")  # type: ignore[assignment]
    socket.create_server = _blocked("create_server")  # type: ignore[assignment]


def _uninstall() -> None:
    for name, value in _SAVED.items():
        setattr(socket, name, value)
    _SAVED.clear()


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Within the block, internet socket use raises ``RESOURCE.NETWORK_FORBIDDEN`` (re-entrant)."""
    global _DEPTH
    with _LOCK:
        if _DEPTH == 0:
            _install()
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                _uninstall()


def network_guard_active() -> bool:
    """True while a :func:`no_network` block is active in this process."""
    return _DEPTH > 0


__all__ = ["network_guard_active", "no_network"]
