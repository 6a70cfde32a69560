"""The one way text from outside reaches a terminal: harmless, visible, never markup.

Articles, titles, outlets, URLs, file names and questions may hold anything. Before
any of it is printed it goes through :func:`clean` (or :func:`text`, which wraps the
result in a ``rich.text.Text`` so rich never reads it as markup):

- C0 control characters (ESC, BEL, CR, backspace, …) and DEL are shown as their
  Unicode control pictures: ``\\x1b`` → ``␛``, ``\\x07`` → ``␇``, ``\\x7f`` → ``␡``.
  An escape sequence thus prints as visible text (``␛]8;;https://…␇``) and does
  nothing. Newline and tab are kept in running text; in a one-line field (a title, a
  path) they are shown too (``␊``, ``␉``), so a file name with a newline stays visible.
- C1 control characters, bidirectional embeddings, overrides and isolates
  (U+202A–U+202E, U+2066–U+2069) are shown as ``\\x9b`` / ``\\u202e``.
- Lone surrogates (undecodable bytes of a file name or argument, read with
  ``surrogateescape``) are shown as the bytes they stand for, ``\\xe9``, the
  ``backslashreplace`` way; any other lone surrogate as ``\\ud800``.

:func:`json_line` is the same promise for ``--json``: always valid UTF-8 JSON (strings
are otherwise exact; JSON escapes control characters itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console

_RUNNING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # a byte surrogateescape could not decode
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def clean(value: object, *, one_line: bool = False) -> str:
    """``value`` as text that does nothing to a terminal (see the module docstring)."""
    s = value if isinstance(value, str) else str(value)
    return (_ONE_LINE if one_line else _RUNNING).sub(_shown, s)


def text(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """:func:`clean` text as a rich ``Text``: printed as it is, never read as markup."""
    return Text(clean(value, one_line=one_line), style=style)


def counted(n: int, one: str, many: str | None = None) -> str:
    """``1 article``, ``2 articles`` (``many`` for irregular plurals: ``entry``/``entries``)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


#: the width of output that is not a terminal (a pipe, a file, a cron log): lines are never wrapped
UNWRAPPED = 1_000_000


def console(*, stderr: bool = False) -> Console:
    """A rich Console for standard output (or error): wrapped to the terminal's width on a
    terminal; elsewhere no line is wrapped, so URLs and paths stay whole."""
    from rich.console import Console

    out = Console(highlight=False, stderr=stderr)
    if out.is_terminal:
        return out
    return Console(highlight=False, stderr=stderr, width=UNWRAPPED, soft_wrap=True)


def styled(*pieces: tuple[object, str] | str) -> Text:
    """One line of styled pieces: ``styled(("skipped", "yellow"), " ", path)``; every piece cleaned."""
    out = Text()
    for piece in pieces:
        value, style = piece if isinstance(piece, tuple) else (piece, "")
        out.append(clean(value, one_line=True), style=style)
    return out


def json_line(data: Any) -> str:
    """``data`` as one line of JSON that is valid UTF-8, whatever strings it holds."""
    out = json.dumps(data, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: "\\" + _shown(m), out)  # "\xe9" as JSON: "\\xe9"


def input_lines(stream: TextIO) -> Iterator[str]:
    """Lines of ``stream`` without their newline; bytes that are not UTF-8 become U+FFFD."""
    raw = getattr(stream, "buffer", None)
    if raw is None:
        for got in stream:
            yield got.rstrip("\n")
        return
    for chunk in raw:
        yield chunk.decode("utf-8", "replace").rstrip("\r\n")


def read_line(stream: TextIO) -> str | None:
    """One line of ``stream`` like :func:`input_lines` (None at the end)."""
    raw = getattr(stream, "buffer", None)
    got: str | bytes = raw.readline() if raw is not None else stream.readline()
    if not got:
        return None
    if isinstance(got, bytes):
        got = got.decode("utf-8", "replace")
    return got.rstrip("\r\n")
