"""What newsbot reads off a URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def host_of(url: Any) -> str:
    """The host of an http(s)-style URL, lowercased and without ``www.`` ("" for anything else)."""
    if not isinstance(url, str) or "://" not in url:
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return ""
    return host.removeprefix("www.")
