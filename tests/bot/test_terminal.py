"""Text from outside reaches a terminal harmless and visible, never as markup or escapes."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from bot import terminal
from bot.render import answer_renderable, quote_text, source_line
from retrieval.types import Answer, Article, Quote
from tests.conftest import ROOT, run_cli, write

OSC8 = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
HOSTILE_TEXT = f"Council met. \x1b[2J{OSC8} The council vote passed."


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[2Jb", "a␛[2Jb"),
        (OSC8, "␛]8;;https://evil.example␇click␛]8;;␇"),
        ("bell\x07 back\x08 cr\r del\x7f nul\x00", "bell␇ back␈ cr␍ del␡ nul␀"),
        ("c1 \x9b31m next\x85line", "c1 \\x9b31m next\\x85line"),
        ("bidi \u202egnp.exe\u202c \u2066x\u2069", "bidi \\u202egnp.exe\\u202c \\u2066x\\u2069"),
        ("caf\udce9.txt", "caf\\xe9.txt"),  # surrogateescape: the byte it stands for
        ("lone \ud800", "lone \\ud800"),
        ("lines\nand\ttabs stay", "lines\nand\ttabs stay"),
        ("[bold]not markup[/] :smile:", "[bold]not markup[/] :smile:"),
        ("Ünïcödé, 中文, emoji 🙂", "Ünïcödé, 中文, emoji 🙂"),
    ],
)
def test_clean_shows_controls_visibly(raw: str, shown: str) -> None:
    assert terminal.clean(raw) == shown
    assert terminal.clean(shown) == shown  # cleaning twice changes nothing


def test_one_line_fields_show_newlines_and_tabs() -> None:
    assert terminal.clean("line\nbreak\t.txt", one_line=True) == "line␊break␉.txt"


def _printed(renderable: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=200, force_terminal=True, color_system="standard", highlight=False).print(
        renderable
    )
    return buf.getvalue()


def test_text_is_never_read_as_markup() -> None:
    out = _printed(terminal.styled(("[/] [link=https://evil.example]Click[/link]", "bold"), " :smile:"))
    assert "[/] [link=https://evil.example]Click[/link] :smile:" in re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "\x1b]8" not in out


def test_json_line_is_valid_utf8_and_keeps_the_rest_exact() -> None:
    line = terminal.json_line({"path": "caf\udce9.txt", "q": "x\ud800", "text": "a\x1b[2J 中"})
    line.encode("utf-8")  # would raise on a surrogate
    assert json.loads(line) == {"path": "caf\\xe9.txt", "q": "x\\ud800", "text": "a\x1b[2J 中"}


def test_input_lines_replace_bytes_that_are_not_utf8() -> None:
    stream = io.TextIOWrapper(io.BytesIO(b"caf\xe9?\r\nWho [/] won?\n"), encoding="utf-8")
    assert list(terminal.input_lines(stream)) == ["caf\ufffd?", "Who [/] won?"]
    assert terminal.read_line(io.StringIO("")) is None


def test_highlights_stay_on_their_words_when_cleaning_changes_lengths() -> None:
    text = "A \u202e\u202e\u202e override, then the council vote passed."
    art = Article(id="a", text=text, title=f"T {OSC8}", path="dir/line\nbreak.txt")
    vote = text.index("vote")
    q = Quote(art, 0, len(text), score=1.0, focus=(0, len(text)), matches=((vote, vote + 4),))
    rendered = quote_text(q)
    assert rendered.plain == terminal.clean(text)
    bold = [rendered.plain[s.start : s.end] for s in rendered.spans if "bold" in str(s.style)]
    assert bold == ["vote"]
    assert source_line(art) == "“T ␛]8;;https://evil.example␇click␛]8;;␇” · dir/line␊break.txt"
    out = _printed(answer_renderable(Answer("q", (q,), answered=True, notice=f"note {OSC8}")))
    assert "\x1b]" not in out and "\x07" not in out and "\u202e" not in out


# --------------------------------------------------------------------------- a real terminal

# rich's own styling (SGR) and readline's terminal modes are the only escapes allowed
_OWN_ESCAPES = re.compile(rb"\x1b\[[0-9;]*m|\x1b\[\?[0-9]+[hl]")


def _run_in_pty(*args: str, cache: Path, typed: bytes = b"") -> bytes:
    """``python -m bot ARGS`` with a pseudo-terminal as stdin, stdout and stderr."""
    env = os.environ | {
        "HF_HUB_OFFLINE": "1",
        "NEWSBOT_CACHE": str(cache),
        "TERM": "xterm-256color",
        "COLUMNS": "400",
    }
    env.pop("NO_COLOR", None)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    out = bytearray()
    try:
        if typed:
            os.write(master, typed)
        deadline = time.monotonic() + 240  # a safety net, not an assertion
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return bytes(out)


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("pty")
    articles = tmp / "articles"
    write(
        articles / "e.jsonl",
        json.dumps(
            {
                "id": "evil",
                "text": HOSTILE_TEXT,
                "title": f"[link=https://evil.example]Click[/link] {OSC8}",
                "source": "Wire\x1b[2J\x07",
                "url": "https://example.org/\x1b]8;;x\x07",
            }
        )
        + "\n",
    )
    write(
        articles / "bridge.md",
        "---\ntitle: Bridge [/] opens\nsource: '[bold]Gazette[/]'\n---\nThe council vote on the bridge passed.\n",
    )
    index = tmp / "index"
    built = run_cli("index", "-a", str(articles), "--index", str(index), "--model", "hashing-256", cache=tmp)
    assert built.returncode == 0, built.stderr
    return index, tmp


def _assert_harmless(out: bytes) -> str:
    assert _OWN_ESCAPES.search(out), "rich did not style anything: not a terminal?"
    assert b"\x1b]8;;" not in out and b"\x1b[2J" not in out and b"\x07" not in out
    assert b"\x1b" not in _OWN_ESCAPES.sub(b"", out)
    return _OWN_ESCAPES.sub(b"", out).decode("utf-8")


def test_ask_in_a_terminal_gets_no_escape_from_an_article(hostile_index: tuple[Path, Path]) -> None:
    index, cache = hostile_index
    shown = _assert_harmless(_run_in_pty("ask", "council vote", "--index", str(index), cache=cache))
    assert "␛]8;;https://evil.example␇click␛]8;;␇" in shown
    assert "[link=https://evil.example]Click[/link]" in shown
    assert "Traceback" not in shown


def test_console_in_a_terminal_shows_sources_and_markup_literally(hostile_index: tuple[Path, Path]) -> None:
    index, cache = hostile_index
    typed = b"council vote [/] now?\r/sources\r/stats\r/quit\r"
    shown = _assert_harmless(_run_in_pty("console", "--index", str(index), cache=cache, typed=typed))
    assert "Bridge [/] opens" in shown and "[bold]Gazette[/]" in shown
    assert "Wire␛[2J␇" in shown
    assert "Traceback" not in shown and "MarkupError" not in shown
