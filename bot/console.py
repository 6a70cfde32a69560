"""The interactive console: a REPL with history, highlighted quotes and commands."""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot import config
from bot.asked import as_of_on
from bot.console_alerts import HELP as ALERTS_HELP
from bot.console_alerts import ConsoleAlerts
from bot.live import BackgroundRefresh
from bot.paging import next_page
from bot.render import answer_renderable, source_line
from bot.summaries import round_line
from bot.terminal import console, counted, read_line, styled
from bot.terminal import text as tt
from retrieval.answer.followup import expand_followup
from retrieval.archive import Archive
from retrieval.errors import StoreUnavailableError
from retrieval.live.updates import UpdateReport
from retrieval.types import Answer, Filters

HELP = """\
Type a question and press Enter. Commands:
  /more                      next results for the last question
  /latest TOPIC              the newest articles on a topic, newest first
  /sources                   the articles the last answer quoted
  /filter source=X since=YYYY-MM-DD until=YYYY-MM-DD
                             restrict answers (/filter alone shows, /filter clear resets)
  /stats                     what the archive holds
{alerts}
  /help                      this text
  /quit                      leave (Ctrl-D works too)"""


@dataclass
class ReplState:
    """What the console remembers between questions."""

    question: str = ""  # as typed
    query: str = ""  # as searched (follow-ups expanded)
    answer: Answer | None = None
    shown: int = 0
    filters: Filters = field(default_factory=Filters)


class Repl:
    def __init__(
        self,
        archive: Archive,
        k: int = 3,
        stdin: TextIO | None = None,
        out: Console | None = None,
        refresher: BackgroundRefresh | None = None,
    ) -> None:
        self.archive = archive
        self.k = k
        self.stdin = stdin or sys.stdin
        self.out = out or console()
        self.session = ReplState()
        self.interactive = self.stdin.isatty()
        #: keeps the archive in step in the background (--every); its rounds show between prompts
        self.refresher = refresher
        self.last_round: UpdateReport | None = None
        #: called with each finished round and the archive it made (e.g. topic alerts)
        self.after_round: list[Callable[[UpdateReport, Archive], None]] = []
        self.alerts = ConsoleAlerts(self.out, refreshing=refresher is not None, location=archive.store.where)
        self.after_round.append(self.alerts.after_round)

    # ------------------------------------------------------------------ loop

    def run(self) -> None:
        if self.interactive:
            self._setup_readline()
            stats = self.archive.stats()
            self.out.print(
                styled(
                    ("newsbot", "bold"),
                    f" — {counted(stats.articles, 'article')}, {counted(stats.passages, 'passage')}. "
                    "Ask a question, /help for commands, /quit to leave.",
                )
            )
        while True:
            try:
                got = input("? ") if self.interactive else read_line(self.stdin)
            except (EOFError, KeyboardInterrupt):
                self.out.print()
                break
            if got is None:
                break
            if not self.handle(got.strip()):
                break

    def catch_up(self) -> None:
        """Swap in the archive of finished background rounds and say what they did."""
        if self.refresher is None:
            return
        rounds, archive, failures = self.refresher.take()
        for failure in failures:
            self.out.print(styled(("(background refresh failed: ", "yellow"), failure, (")", "yellow")))
        if archive is not None:
            self.archive = archive
        for result in rounds:
            self.last_round = result
            self.out.print(styled((f"(archive refreshed: {round_line(result)})", "dim")))
            for hook in self.after_round:
                hook(result, self.archive)

    def handle(self, line: str) -> bool:
        """Process one line; False means quit."""
        self.catch_up()
        if not line:
            return True
        try:
            if line.startswith("/"):
                return self._command(line)
            self.ask(line)
        except StoreUnavailableError as exc:  # the database may be back for the next line
            self.out.print(tt(exc, "red"))
        return True

    def ask(self, question: str) -> None:
        query = expand_followup(question, self.session.question or None)
        answer = self.archive.ask(query, k=self.k, filters=self._filters(), as_of=as_of_on())
        self.session = ReplState(question, query, answer, len(answer.quotes), self.session.filters)
        if not self.interactive:
            self.out.print(styled((f"Q: {question}", "bold")))
        if query != question:
            self.out.print(styled((f"(searching: {query})", "dim")))
        self.out.print(answer_renderable(answer))

    # ------------------------------------------------------------------ commands

    def _command(self, line: str) -> bool:
        name, _, rest = line.partition(" ")
        name = name.lower()
        if name in {"/quit", "/exit", "/q"}:
            return False
        handlers = {
            "/help": lambda: self.out.print(Text(HELP.format(alerts=ALERTS_HELP))),
            "/follow": lambda: self.alerts.follow(rest),
            "/following": self.alerts.following,
            "/unfollow": lambda: self.alerts.unfollow(rest),
            "/more": self._more,
            "/sources": self._sources,
            "/stats": self._stats,
            "/latest": lambda: self._latest(rest),
            "/filter": lambda: self._filter(rest),
        }
        handler = handlers.get(name)
        if handler is None:
            self.out.print(styled((f"unknown command {name}", "red"), " — /help lists the commands"))
        else:
            handler()
        return True

    def _more(self) -> None:
        s = self.session
        if s.answer is None:
            self.out.print("Ask a question first.")
            return
        fresh, answer = next_page(self.archive, s.query, s.answer.quotes, self.k, self._filters())
        if not fresh:
            self.out.print("No more results.")
            return
        more = Answer(answer.question, fresh, answered=answer.answered)
        self.out.print(answer_renderable(more, start_number=s.shown + 1))
        s.shown += len(fresh)
        s.answer = Answer(answer.question, s.answer.quotes + fresh, answered=s.answer.answered)

    def _latest(self, topic: str) -> None:
        topic = topic.strip()
        if not topic:
            self.out.print("Usage: /latest TOPIC, e.g. /latest Afghanistan conference")
            return
        answer = self.archive.latest(topic, k=self.k, filters=self._filters(), as_of=as_of_on())
        self.session = ReplState(topic, topic, answer, len(answer.quotes), self.session.filters)
        self.out.print(styled((f"Newest on {topic}:", "bold")))
        self.out.print(answer_renderable(answer))

    def _sources(self) -> None:
        answer = self.session.answer
        if answer is None or not answer.quotes:
            self.out.print("No answer yet.")
            return
        for n, (article, quotes) in enumerate(answer.by_article(), 1):
            self.out.print(
                styled(
                    (f"{n}.", "bold"),
                    " ",
                    source_line(article, quotes[0].link),
                    " ",
                    (f"({counted(len(quotes), 'quote')})", "dim"),
                )
            )

    def _stats(self) -> None:
        st = self.archive.stats()
        table = Table(show_header=False, box=None)
        age = _age(st.created)
        rows = [
            ("articles", str(st.articles)),
            ("passages", str(st.passages)),
            ("model", st.model),
            ("index", f"{st.location} ({st.index_type}), built {st.created}{age}"),
            ("published", f"{st.first_published or '?'} … {st.last_published or '?'}"),
            ("outlets", ", ".join(f"{s} ({n})" for s, n in st.sources[:8]) or "-"),
            ("languages", ", ".join(f"{lang} ({n})" for lang, n in st.languages) or "-"),
        ]
        if self.last_round is not None:
            rows.append(
                (
                    "last refresh",
                    f"{self.last_round.finished:%Y-%m-%d %H:%M} UTC: {round_line(self.last_round)}",
                )
            )
        for key, value in rows:
            table.add_row(Text(key), tt(value, one_line=True))
        self.out.print(table)

    def _filter(self, spec: str) -> None:
        spec = spec.strip()
        if spec == "clear":
            self.session.filters = Filters()
        elif spec:
            try:
                self.session.filters = parse_filter(spec, self.session.filters)
            except ValueError as exc:
                self.out.print(tt(exc, "red"))
                return
        f = self.session.filters
        if not f.active:
            self.out.print("No filter: searching every article.")
        else:
            parts = [f"source={s}" for s in f.sources]
            parts += [f"since={f.since}"] if f.since else []
            parts += [f"until={f.until}"] if f.until else []
            self.out.print(styled("Filter: " + " ".join(parts)))

    def _filters(self) -> Filters | None:
        return self.session.filters if self.session.filters.active else None

    def _setup_readline(self) -> None:
        try:
            import atexit
            import readline
        except ImportError:  # pragma: no cover - platform without readline
            return
        history = config.cache_dir() / "console_history"
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            if history.exists():
                readline.read_history_file(history)
        except OSError:
            return
        readline.set_history_length(1000)
        atexit.register(_save_history, history)


def _save_history(path: Path) -> None:
    import readline

    with contextlib.suppress(OSError):
        readline.write_history_file(path)


def parse_filter(spec: str, current: Filters) -> Filters:
    """``source=Reuters since=2023-01-01 until=2023-01-31`` → :class:`Filters`."""
    sources = list(current.sources)
    since, until = current.since, current.until
    for token in shlex.split(spec):
        key, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {token!r} (keys: source, since, until)")
        key = key.lower()
        if key == "source":
            sources = [value] if value else []
        elif key in {"since", "until"}:
            try:
                day = date.fromisoformat(value) if value else None
            except ValueError:
                raise ValueError(f"{key}: {value!r} is not a date like 2023-01-31") from None
            since, until = (day, until) if key == "since" else (since, day)
        else:
            raise ValueError(f"unknown filter {key!r} (keys: source, since, until)")
    return Filters(tuple(sources), since, until)


def _age(created: str) -> str:
    try:
        then = datetime.fromisoformat(created)
    except ValueError:
        return ""
    minutes = int((datetime.now(UTC) - then).total_seconds() // 60)
    if minutes < 60:
        return f" ({minutes} min ago)"
    if minutes < 48 * 60:
        return f" ({minutes // 60} h ago)"
    return f" ({minutes // 1440} days ago)"
