"""What newsbot reads off a URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit


def host_of(url: Any) -> str:
    """The host of an http(s)-style URL, lowercased and without ``www.`` ("" for anything else)."""
    if not isinstance(url, str) or "://" not in url:
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return ""
    return host.removeprefix("www.")


#: words of a quote's start and end that name it in a text fragment (longer quotes)
FRAGMENT_WORDS = 4


def text_fragment_link(url: str, quoted: str) -> str:
    """``url`` opening at ``quoted``: a text fragment (``#:~:text=start,end``, the WICG
    scroll-to-text form, percent-encoded) naming the quote's first and last words; ``url``
    itself when it is not http(s) or the quote has no words."""
    if not url.lower().startswith(("http://", "https://")):
        return url
    words = quoted.split()
    if not words:
        return url
    if len(words) <= 2 * FRAGMENT_WORDS:
        directive = _fragment_part(" ".join(words))
    else:
        start = " ".join(words[:FRAGMENT_WORDS])
        end = " ".join(words[-FRAGMENT_WORDS:])
        directive = f"{_fragment_part(start)},{_fragment_part(end)}"
    base, hash_mark, fragment = url.partition("#")
    fragment = fragment.split(":~:", 1)[0]
    return f"{base}#{fragment if hash_mark else ''}:~:text={directive}"


def _fragment_part(text: str) -> str:
    """Percent-encoded for a text directive: ``-``, ``,`` and ``&`` are syntax there."""
    return quote(text, safe="").replace("-", "%2D")
