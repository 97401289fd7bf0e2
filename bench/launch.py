"""``python -m bench.launch osint|trafilatura ARGS...``: run a tool's CLI with ``*.localhost`` on loopback.

RFC 6761 reserves ``.localhost`` for the loopback address and most resolvers honour it,
but glibc does not, and trafilatura refuses bare IP addresses and ``localhost`` as
hosts. So both tools under test are started through this shim, which answers names
ending in ``.localhost`` with 127.0.0.1 and passes every other lookup through. It is
the only change to either tool, the same for both, and costs one string comparison
per lookup; then the tool's own console entry point runs as its script would.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if isinstance(host, str) and host.lower().rstrip(".").endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, port, *args, **kwargs)


def install() -> None:
    """Make ``*.localhost`` resolve to 127.0.0.1 in this process."""
    socket.getaddrinfo = _loopback_getaddrinfo


def main(argv: list[str]) -> int:
    install()
    if not argv or argv[0] not in ("osint", "trafilatura"):
        print("usage: python -m bench.launch osint|trafilatura ARGS...", file=sys.stderr)
        return 2
    tool, args = argv[0], argv[1:]
    sys.argv = [tool, *args]
    if tool == "osint":
        from osint.__main__ import main as osint_main

        osint_main()
    else:
        from trafilatura.cli import main as trafilatura_main

        trafilatura_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
