"""``python -m osint.demo [NAME]``: serve a bundled sample corpus on 127.0.0.1, collect it, report.

The corpus (``samples/demo``) is a small web of outlets under one root. Every file says
``__BASE__/<outlet>/...`` where a URL goes; the server gives each outlet directory its
own port on 127.0.0.1 and rewrites those placeholders, so each outlet is its own
origin, as on the real web. It answers ETag/If-None-Match, so a second collect is
a round of 304s. The tests use the same server.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from .errors import ConfigError
from .settings import PROJECT_ROOT, load_feeds, load_profile, profile_path

DEMO_DIR = PROJECT_ROOT / "samples" / "demo"
DEMO_PERIOD = (date(2026, 3, 6), date(2026, 3, 13))
_PLACEHOLDER = re.compile(r"__BASE__/([A-Za-z0-9_-]+)")
_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".xml": "application/xml"}


class CorpusSite:
    """The corpus files with placeholders rewritten for the ports actually bound."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.ports: dict[str, int] = {}
        self.requests: Counter[str] = Counter()
        """GET requests per URL path, so a test can see what was fetched how often."""
        self._lock = threading.Lock()

    def count(self, url_path: str) -> None:
        with self._lock:
            self.requests[url_path] += 1

    def base(self, outlet: str) -> str:
        return f"http://127.0.0.1:{self.ports[outlet]}/{outlet}"

    def rewrite(self, data: bytes) -> bytes:
        text = data.decode("utf-8")
        return _PLACEHOLDER.sub(
            lambda m: self.base(m.group(1)) if m.group(1) in self.ports else m.group(0), text
        ).encode("utf-8")

    def file(self, url_path: str) -> Path | None:
        path = (self.root / unquote(url_path).lstrip("/")).resolve()
        if not path.is_relative_to(self.root):
            return None
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None


def _handler(site: CorpusSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.count(urlsplit(self.path).path)
            path = site.file(urlsplit(self.path).path)
            if path is None:
                self.send_error(404)
                return
            body = site.rewrite(path.read_bytes())
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", f"{ctype}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_corpus(root: Path) -> Iterator[CorpusSite]:
    """Serve ``root`` on 127.0.0.1, one port per top-level directory, until the block ends."""
    site = CorpusSite(root)
    outlets = sorted(p.name for p in site.root.iterdir() if p.is_dir())
    with ExitStack() as stack:
        for outlet in outlets:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
            server.daemon_threads = True
            site.ports[outlet] = int(server.server_address[1])
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            stack.callback(thread.join, 5)
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
        yield site


def feeds_for(site: CorpusSite, feeds_file: Path, dest: Path) -> Path:
    """A copy of the corpus's feeds.yaml with live URLs, its country path kept working."""
    text = site.rewrite(feeds_file.read_bytes()).decode("utf-8")
    profile = re.search(r"^country:\s*(\S+)", text, re.MULTILINE)
    if profile:
        absolute = (feeds_file.parent / profile.group(1)).resolve()
        text = text.replace(profile.group(0), f"country: {absolute}", 1)
    dest.write_text(text, encoding="utf-8")
    return dest


def sample_week(name: str) -> tuple[Path, tuple[date, date]]:
    """A sample corpus under samples/ and the week it is reported on.

    ``demo`` is the default corpus; another one (``samples/<name>/``) says its week in
    ``week.yaml`` (``start``, ``end``), and its feeds file names its country profile.
    """
    root = PROJECT_ROOT / "samples" / name
    if not (root / "feeds.yaml").is_file() or not (root / "site").is_dir():
        known = sorted(p.name for p in (PROJECT_ROOT / "samples").iterdir() if (p / "site").is_dir())
        raise ConfigError(f"no sample corpus {name!r} under samples/ (there are: {', '.join(known)})")
    week = root / "week.yaml"
    if not week.is_file():
        return root, DEMO_PERIOD
    data = yaml.safe_load(week.read_text(encoding="utf-8")) or {}
    try:
        return root, (date.fromisoformat(str(data["start"])), date.fromisoformat(str(data["end"])))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{week}: needs start and end dates (YYYY-MM-DD): {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    """Collect a sample corpus into data/<name>.db and write its week's report.

    ``python -m osint.demo`` builds the default corpus (samples/demo, into data/demo.db);
    ``python -m osint.demo NAME`` builds samples/NAME, in its country's time zone.
    """
    from .cli import app  # the demo drives the real CLI, as a user would

    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else DEMO_DIR.name
    try:
        root, (start, end) = sample_week(name)
    except ConfigError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    db = PROJECT_ROOT / "data" / f"{name}.db"
    db.parent.mkdir(parents=True, exist_ok=True)  # data/ is not in git: a fresh clone has none
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with serve_corpus(root / "site") as site:
        # Kept beside the store (data/ is not in git) so `osint serve` after the demo finds
        # the corpus's sources: the URLs point at the corpus server, gone once the demo ends.
        feeds = feeds_for(site, root / "feeds.yaml", db.with_name(f"{name}-feeds.yaml"))
        os.environ["OSINT_ALLOW_PRIVATE_NETWORKS"] = "127.0.0.1/32"
        os.environ.setdefault("OSINT_POLITENESS_DELAY", "0.05")
        if name != DEMO_DIR.name:  # the default demo keeps the documented default zone
            try:
                os.environ["OSINT_TIMEZONE"] = load_profile(profile_path(feeds, load_feeds(feeds))).timezone
            except ConfigError as exc:
                print(f"demo: {exc}", file=sys.stderr)
                return 2
        for command in (
            ["collect", "--feeds", str(feeds), "--db", str(db)],
            [
                "report",
                "--feeds",
                str(feeds),
                "--db",
                str(db),
                "--from",
                start.isoformat(),
                "--to",
                end.isoformat(),
                "--out",
                str(PROJECT_ROOT / "reports"),
            ],
        ):
            code = app(command, prog_name="osint", standalone_mode=False)
            if isinstance(code, int) and code:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
