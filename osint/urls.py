"""The keys items are stored and compared under: canonical URLs and content hashes. Pure.

The feed parser, the listing-page reader, extraction and the store all need to agree on
when two links are the same article and when two texts are the same text; living here,
none of them has to import another stage for it.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from .text import fold_space

MAX_URL = 2000
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$)", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """The key an article is stored under: lower-case host, no fragment or tracking query."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = "&".join(p for p in parts.query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0]))
    netloc = parts.netloc.lower()
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def absolute_http_url(link: str | None, base: str) -> str | None:
    """``link`` made absolute against ``base``; None unless it is http(s)."""
    if not link:
        return None
    link = link.strip()
    if not link or len(link) > MAX_URL:
        return None
    try:
        url = urljoin(base, link)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:  # e.g. "http://[broken/": unbalanced IPv6 brackets
        return None
    return url


def content_hash(text: str) -> str:
    """A key for a text that ignores case and how its whitespace was laid out."""
    return hashlib.sha256(fold_space(text).lower().encode()).hexdigest()[:32]
