"""A strict checker for Telegram's HTML parse mode (what the Bot API would reject)."""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
}
_TOKEN = re.compile(r"<[^<>]*>|&[^;\s<>&]*;?|[^<&]+|[<&]")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);\Z")
_OPEN = re.compile(r'<([a-z-]+)(?:\s+href="[^"<>]*")?(?:\s+expandable)?>\Z')
_CLOSE = re.compile(r"</([a-z-]+)>\Z")


class BadHtml(AssertionError):
    pass


def visible_text(message: str) -> str:
    """Check ``message`` like Telegram's parser would; return the text users see."""
    stack: list[str] = []
    out: list[str] = []
    for token in _TOKEN.findall(message):
        if token.startswith("<"):
            close = _CLOSE.match(token)
            if close:
                if not stack or stack[-1] != close.group(1):
                    raise BadHtml(f"unbalanced {token} (open: {stack}) in {message[:200]!r}")
                stack.pop()
                continue
            opening = _OPEN.match(token)
            if not opening or opening.group(1) not in ALLOWED_TAGS:
                raise BadHtml(f"bad tag {token!r} in {message[:200]!r}")
            name = opening.group(1)
            if name == "a" and "href=" not in token:
                raise BadHtml(f"<a> without href in {message[:200]!r}")
            if name in stack:
                raise BadHtml(f"nested <{name}> in {message[:200]!r}")
            stack.append(name)
        elif token.startswith("&"):
            if not _ENTITY.match(token):
                raise BadHtml(f"bad entity or bare & {token!r} in {message[:200]!r}")
            out.append(html.unescape(token))
        else:
            out.append(token)  # plain text (a bare ">" is fine for Telegram)
    if stack:
        raise BadHtml(f"tags left open {stack} in {message[:200]!r}")
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
