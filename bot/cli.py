"""The ``newsbot`` command group: index, ask, console, telegram."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot import config
from bot.terminal import counted, json_line

if TYPE_CHECKING:
    from retrieval.archive import Archive
    from retrieval.ingest.feed_list import FeedList
    from retrieval.ingest.indexer import IndexReport, OnProgress
    from retrieval.live.updates import UpdateReport
    from retrieval.store import Location
    from retrieval.types import AsOf, Filters

F = TypeVar("F", bound=Callable[..., Any])  # a command function, under click's decorators


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="newsbot")
def main() -> None:
    """Ask questions of a news archive; answers are exact quotes with their sources."""
    config.offline_runtime()


# --------------------------------------------------------------------------- shared options


def index_option(f: F) -> F:
    f = click.option(
        "--store",
        "database_url",
        metavar="postgresql://…",
        envvar=config.ENV_DATABASE_URL,
        show_envvar=True,
        help="Keep the archive in PostgreSQL (pgvector) instead of the --index folder.",
    )(f)
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=config.DEFAULT_INDEX,
        envvar=config.ENV_INDEX,
        show_default=True,
        show_envvar=True,
        help="Index folder (FAISS files).",
    )(f)


def location(database_url: str | None, index_dir: Path) -> Location:
    try:
        return config.store_location(database_url, index_dir)
    except config.SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--store") from exc


def backend_option(f: F) -> F:
    return click.option(
        "--backend",
        type=click.Choice(["onnx", "torch"]),
        default="onnx",
        envvar=config.ENV_BACKEND,
        show_default=True,
        show_envvar=True,
        help="How the embedding model runs: ONNX Runtime int8 (fast) or plain PyTorch fp32.",
    )(f)


def reader_option(f: F) -> F:
    return click.option(
        "--reader",
        type=click.Choice(["learned", "rules"]),
        default="learned",
        envvar=config.ENV_READER,
        show_default=True,
        show_envvar=True,
        help="What picks the answering sentences: the reader trained here (English questions; "
        "other languages use the rules) or the rule-based scorer.",
    )(f)


def feeds_options(f):  # type: ignore[no-untyped-def]
    f = click.option(
        "--feeds-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=config.ENV_FEEDS_DIR,
        show_envvar=True,
        help="Where fetched feed entries and per-feed state are kept. "
        "Default: INDEX/feeds, or a folder of the cache for --store.",
    )(f)
    return click.option(
        "--feeds",
        "feeds_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar=config.ENV_FEEDS,
        show_envvar=True,
        help="Feeds file (one URL a line, # comments) or OPML: fetched, then indexed with the articles.",
    )(f)


def every_option(default: str | None):  # type: ignore[no-untyped-def]
    def option(f):  # type: ignore[no-untyped-def]
        return click.option(
            "--every",
            envvar=config.ENV_EVERY,
            show_envvar=True,
            default=default,
            show_default=default is not None,
            help="Refresh from --articles/--feeds this often: 30s, 15m, 1h.",
        )(f)

    return option


def read_feeds(feeds_file: Path | None) -> FeedList | None:
    """The feeds file, or None; unreadable files are one clear line (bad lines are reported later)."""
    if feeds_file is None:
        return None
    from retrieval.ingest.feed_list import FeedListError, read_feed_list

    try:
        return read_feed_list(feeds_file)
    except FeedListError as exc:
        raise click.ClickException(str(exc)) from exc


def every_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return config.parse_every(value)
    except config.SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from exc


def default_sources(
    sources: tuple[Path, ...], feeds: FeedList | None, forget: tuple[Path, ...] = ()
) -> list[Path]:
    """The article folders of a command: those given, else seeds/ (unless feeds are given,
    or sources forgotten)."""
    if sources or feeds is not None or forget:
        return list(sources)
    if not config.DEFAULT_ARTICLES.exists():
        raise click.ClickException("no seeds/ folder here: pass --articles DIR (or --feeds FILE)")
    return [config.DEFAULT_ARTICLES]


@contextmanager
def user_errors() -> Iterator[None]:
    """Expected failures become one clear line (exit 1), not a traceback."""
    from bot.terminal import clean
    from retrieval.errors import USER_ERRORS

    expected: tuple[type[Exception], ...] = (*USER_ERRORS, ValueError)
    try:
        yield
    except expected as exc:  # the message may quote a path or a title: never raw to the terminal
        raise click.ClickException(clean(str(exc))) from exc


def open_archive(where: Location, backend: str, reader: str = "rules") -> Archive:
    """The archive at ``where``, answering with ``reader`` (a learned reader that cannot be
    loaded says so once on standard error, and the rules answer)."""
    from retrieval.answer.readers import open_reader
    from retrieval.archive import Archive

    def unavailable(message: str) -> None:
        from bot.terminal import clean

        click.echo(f"warning: {clean(message)}", err=True)

    with user_errors():
        return Archive.open(
            where,
            backend=backend,
            cache_dir=config.cache_dir(),
            reader=open_reader(reader, folder=config.reader_model(), on_unavailable=unavailable),
        )


# --------------------------------------------------------------------------- index


@main.command()
@click.option(
    "--articles",
    "-a",
    "sources",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Folder (searched recursively) or file of articles; repeatable. Default: seeds/.",
)
@index_option
@click.option(
    "--model",
    envvar=config.ENV_MODEL,
    show_envvar=True,
    help="'default', 'multilingual' or a sentence-transformers model folder. Default: the index's own model.",
)
@backend_option
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild everything, re-embedding every passage (keeps the index's model and passage size "
    "unless --model / --max-words / --overlap say otherwise).",
)
@click.option(
    "--max-words",
    type=click.IntRange(8, 2000),
    help="Passage size in words (default: the index's, else 120).",
)
@click.option(
    "--overlap",
    type=click.IntRange(0, 5),
    help="Sentences shared by consecutive passages (default: the index's, else 1).",
)
@click.option(
    "--index-type",
    type=click.Choice(["auto", "flat", "hnsw", "ivf-sq8"]),
    default="auto",
    show_default=True,
    help="FAISS index type; auto picks exact search for small archives.",
)
@click.option(
    "--allow-removal",
    is_flag=True,
    help="Let this run remove more than half of the articles of the sources it reads (their files are gone).",
)
@click.option(
    "--forget-source",
    "forget",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Remove a source the archive remembers (see newsbot sources) and its articles; repeatable.",
)
@feeds_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def index(
    sources: tuple[Path, ...],
    index_dir: Path,
    database_url: str | None,
    model: str | None,
    backend: str,
    full: bool,
    max_words: int | None,
    overlap: int | None,
    index_type: str,
    allow_removal: bool,
    forget: tuple[Path, ...],
    feeds_file: Path | None,
    feeds_dir: Path | None,
    as_json: bool,
) -> None:
    """Bring the index in step with the articles (only changed articles are embedded).

    With --feeds it fetches the feeds first (one round, e.g. for cron). The archive remembers
    its sources: articles of sources this run does not name are kept (newsbot sources)."""
    where = location(database_url, index_dir)
    if where.is_database and index_type != "auto":
        raise click.BadParameter("FAISS index types apply to --index folders only", param_hint="--index-type")
    feeds = read_feeds(feeds_file)
    with _progress(enabled=not as_json and sys.stderr.isatty()) as on_progress:
        result = run_update(
            where,
            default_sources(sources, feeds, forget),
            feeds,
            config.feeds_dir(where, feeds_dir),
            model,
            chunking={"max_words": max_words, "overlap_sentences": overlap},
            full=full,
            allow_removal=allow_removal,
            index_type=index_type,
            backend=backend,
            cache_dir=config.cache_dir(),
            on_progress=on_progress,
            feeds_file=feeds_file,
            forget=forget,
        )
    if as_json:
        click.echo(json_line(result.as_dict() if feeds is not None else result.index.as_dict()))
    else:
        if result.poll is not None:
            _print_poll(result)
        _print_report(result.index)


def run_update(
    where: Location,
    sources: list[Path],
    feeds: FeedList | None,
    state_dir: Path,
    model: str | None,
    **options: Any,
) -> UpdateReport:
    """One round (poll, then refresh); expected failures as one line."""
    from retrieval.ingest.feed_state import StateLocked
    from retrieval.live.updates import update

    with user_errors():
        try:
            return update(where, sources, feeds, state_dir, model, **options)
        except StateLocked as exc:
            raise click.ClickException(
                f"{exc}: another newsbot is fetching these feeds; try again later"
            ) from exc


@contextmanager
def _progress(enabled: bool) -> Iterator[OnProgress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("embedding {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _print_poll(result: UpdateReport) -> None:
    """Each feed that did not simply work, by URL and reason; then the round in one line."""
    from bot.summaries import feed_problems, round_line
    from bot.terminal import console as output
    from bot.terminal import styled

    out = output()
    for where, reason in feed_problems(result):
        out.print(styled(("feed", "yellow"), " ", where, ": ", reason))
    out.print(styled((round_line(result), "bold")))


def _print_report(report: IndexReport) -> None:
    """The summary; paths, ids and reasons through :mod:`bot.terminal` (never markup)."""
    from rich.table import Table

    from bot.terminal import console as output
    from bot.terminal import styled, text

    out = output()
    table = Table(show_header=False, box=None, pad_edge=False)
    rows = [
        ("index", report.location),
        ("model", report.model),
        ("articles", str(report.articles)),
        ("added", str(len(report.added))),
        ("updated", str(len(report.updated))),
        ("removed", str(len(report.removed))),
        ("unchanged", str(report.unchanged)),
        ("skipped", str(sum(not p.warning for p in report.skipped))),
        ("duplicates", str(len(report.duplicates))),
        ("passages", f"{report.passages} ({report.embedded} embedded, {report.reused} reused)"),
        ("time", f"{report.seconds:.1f} s"),
        ("passages/s", f"{report.passages_per_second:.1f}" if report.embedded else "-"),
    ]
    warnings = sum(p.warning for p in report.skipped)  # indexed, but e.g. without their date
    if warnings:
        rows.insert(8, ("warnings", str(warnings)))
    if report.kept:  # their source looked gone (an empty folder …): nothing was removed
        rows.insert(6, ("kept", str(len(report.kept))))
    if report.others:  # sources the archive remembers that this run did not read
        rows.insert(3, ("other sources", f"{counted(report.others, 'article')} kept (newsbot sources)"))
    if report.sentences_embedded:  # models that index sentences (the multilingual one)
        rows.append(("sentences", f"{report.sentences_embedded} embedded in {report.sentence_seconds:.1f} s"))
    for key, value in rows:
        table.add_row(text(key), text(value, one_line=True))
    out.print(table)
    for p in report.skipped:
        label = ("warning", "yellow") if p.warning else ("skipped", "yellow")
        out.print(styled(label, " ", p.path, ": ", p.reason))
    for p in report.duplicates:
        out.print(styled(("duplicate", "dim"), " ", p.path, ": ", p.reason))
    for reason, count in Counter(p.reason for p in report.kept).items():
        out.print(
            styled(("kept", "yellow"), f" {counted(count, 'article')}: ", reason.removeprefix("kept: "))
        )
    for source, count in report.forgotten:
        out.print(
            styled(
                ("forgot", "yellow"), f" source {display_path(source)}: {counted(count, 'article')} removed"
            )
        )
    if not report.wrote:
        out.print(styled(("index already up to date", "green")))


# --------------------------------------------------------------------------- sources


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the sources as one JSON object.")
def sources(index_dir: Path, database_url: str | None, as_json: bool) -> None:
    """List the sources the archive remembers (folders and feeds files) and their articles.

    A run of newsbot index keeps the articles of the sources it does not name; remove one
    with newsbot index --forget-source PATH."""
    import os

    from rich.table import Table

    from bot.terminal import console as output
    from bot.terminal import text
    from retrieval.store import open_store

    with user_errors():
        store = open_store(location(database_url, index_dir))
        try:
            manifest = store.manifest()
        finally:
            store.close()
    remembered = manifest.sources
    counts = dict.fromkeys((s.path for s in remembered), 0)
    unsourced = 0
    for entry in manifest.articles.values():
        path = os.path.abspath(entry.path) if entry.path else ""
        owner = next((s.path for s in remembered if path and _within(path, s.path)), None)
        if owner is None:
            unsourced += 1
        else:
            counts[owner] += 1
    if as_json:
        listed = [s.as_json() | {"articles": counts[s.path]} for s in remembered]
        click.echo(json_line({"index": store.location, "sources": listed, "unsourced": unsourced}))
        return
    out = output()
    table = Table(box=None, pad_edge=False)
    for column in ("source", "kind", "articles"):
        table.add_column(column)
    for s in remembered:
        kind = f"feeds {display_path(s.feeds)}" if s.feeds else "articles"
        table.add_row(text(display_path(s.path)), text(kind, one_line=True), str(counts[s.path]))
    if unsourced:
        table.add_row(
            text("(none remembered)"), text("indexed before sources were remembered"), str(unsourced)
        )
    out.print(table)


def _within(path: str, folder: str) -> bool:
    import os

    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def display_path(path: str) -> str:
    from retrieval.ingest.articles import display_path as shown

    return shown(path)


# --------------------------------------------------------------------------- watch


#: seconds before a failed watch round is tried again (doubling, at most --every)
RETRY_FIRST = 30.0


def articles_option(help_text: str):  # type: ignore[no-untyped-def]
    def option(f):  # type: ignore[no-untyped-def]
        return click.option(
            "--articles",
            "-a",
            "sources",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help=help_text,
        )(f)

    return option


@main.command()
@articles_option("Folder or file of articles re-read every round; repeatable.")
@index_option
@click.option(
    "--model",
    envvar=config.ENV_MODEL,
    show_envvar=True,
    help="For a new index: 'default', 'multilingual' or a model folder. Default: the index's own model.",
)
@backend_option
@feeds_options
@every_option(config.DEFAULT_EVERY)
@click.option(
    "--rounds", type=click.IntRange(1), help="Stop after this many rounds (default: until stopped)."
)
@click.option("--allow-removal", is_flag=True, help="Let a round remove more than half of the archive.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per round.")
def watch(
    sources: tuple[Path, ...],
    index_dir: Path,
    database_url: str | None,
    model: str | None,
    backend: str,
    feeds_file: Path | None,
    feeds_dir: Path | None,
    every: str,
    rounds: int | None,
    allow_removal: bool,
    as_json: bool,
) -> None:
    """Keep the index in step on a schedule: fetch the feeds, re-read the folders, index what
    changed. Stop with Ctrl-C or SIGTERM (a round in progress finishes first)."""
    import signal
    import threading

    from bot.summaries import feed_problems, round_line
    from bot.terminal import console as output
    from bot.terminal import styled
    from retrieval.embedding import LazyEmbedder, resolve_model

    where = location(database_url, index_dir)
    feeds = read_feeds(feeds_file)
    if feeds is None and not sources:
        raise click.UsageError("nothing to watch: give --feeds FILE and/or --articles DIR")
    seconds = every_seconds(every) or 0.0
    state_dir = config.feeds_dir(where, feeds_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    out = output(stderr=as_json)
    embedder: Any = model  # a name until the first round tells which model the index has
    done = failures = 0
    while not stop.is_set():
        wait = seconds
        try:
            result = run_update(
                where,
                list(sources),
                feeds,
                state_dir,
                embedder,
                allow_removal=allow_removal,
                backend=backend,
                cache_dir=config.cache_dir(),
                feeds_file=feeds_file,
            )
        except click.ClickException as exc:  # this round failed (database down, feeds busy): say so, go on
            failures += 1  # the next one sooner, backing off: 30 s, 1 min, 2 min … up to --every
            wait = min(seconds, RETRY_FIRST * 2 ** (failures - 1))
            out.print(
                styled(("round failed", "red"), ": ", exc.format_message(), f" (next try in {wait:g} s)")
            )
        else:
            failures = 0
            if not isinstance(embedder, LazyEmbedder):  # load the model once, keep it for later rounds
                embedder = LazyEmbedder(resolve_model(result.index.model), backend, config.cache_dir())
            if as_json:
                click.echo(json_line(result.as_dict()))
            else:
                for where_, reason in feed_problems(result):
                    out.print(styled(("feed", "yellow"), " ", where_, ": ", reason))
                out.print(styled((round_line(result), "bold")))
        done += 1
        if rounds is not None and done >= rounds:
            break
        stop.wait(wait)


# --------------------------------------------------------------------------- ask


def filters_from(sources: tuple[str, ...], since: date | None, until: date | None) -> Filters | None:
    from retrieval.types import Filters

    if not (sources or since or until):
        return None
    try:
        return Filters(sources=sources, since=since, until=until)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


class DateParam(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2023-01-31", param, ctx)


@main.command()
@click.argument("question", required=False)
@index_option
@backend_option
@reader_option
@click.option(
    "-k", "--k", "k", type=click.IntRange(1, 50), default=5, show_default=True, help="Quotes to show."
)
@click.option(
    "--source", "sources", multiple=True, help="Only articles from this outlet (substring; repeatable)."
)
@click.option("--since", type=DateParam(), help="Only articles published on or after this date.")
@click.option("--until", type=DateParam(), help="Only articles published on or before this date.")
@click.option(
    "--as-of",
    type=DateParam(),
    help="Answer as of this day: nothing published later is quoted, and 'last week' counts from it. "
    "Default: today (newer articles are preferred, none is excluded).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read one {"question": …, "as_of": "YYYY-MM-DD"} object per line of standard input; '
    "print one --json object per line.",
)
def ask(
    question: str | None,
    index_dir: Path,
    database_url: str | None,
    backend: str,
    reader: str,
    k: int,
    sources: tuple[str, ...],
    since: date | None,
    until: date | None,
    as_of: date | None,
    as_json: bool,
    jsonl: bool,
) -> None:
    """Answer QUESTION, or each line of standard input when QUESTION is left out."""
    from bot.asked import as_of_given, as_of_on, today
    from bot.render import answer_json, answer_renderable
    from bot.terminal import console as output
    from bot.terminal import input_lines, styled

    if jsonl and question is not None:
        raise click.UsageError("--jsonl reads the questions from standard input: leave QUESTION out")
    day = today()
    if as_of is not None and as_of > day:
        raise click.BadParameter(f"{as_of} is in the future (today is {day})", param_hint="--as-of")
    filters = filters_from(sources, since, until)
    archive = open_archive(location(database_url, index_dir), backend, reader)
    out = output()
    if jsonl:
        for number, line in enumerate(input_lines(sys.stdin), 1):
            if line.strip():
                click.echo(json_line(_jsonl_answer(archive, line, number, k, filters, as_of_on(as_of), day)))
        return
    asked = as_of_given(as_of)
    questions = [question] if question is not None else input_lines(sys.stdin)
    for q in questions:
        if question is None and not q.strip():
            continue
        with user_errors():
            answer = archive.ask(q, k=k, filters=filters, as_of=asked)
        if as_json:
            click.echo(json_line(answer_json(answer) | {"as_of": str(asked.day)}))
        else:
            if question is None:
                out.print(styled((f"Q: {answer.question}", "bold")))
            out.print(answer_renderable(answer))


def _jsonl_answer(
    archive: Archive, line: str, number: int, k: int, filters: Filters | None, default: AsOf, today: date
) -> dict[str, Any]:
    """The --json object for one --jsonl line, or ``{"line", "error"}`` saying what is wrong with it;
    ``default``: the as-of of a line without one."""
    import json

    from bot.asked import as_of_given
    from bot.render import answer_json
    from retrieval.errors import USER_ERRORS

    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"line": number, "error": f"not JSON: {exc.msg}"}
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        return {"line": number, "error": 'expected an object with a "question" string'}
    given = item.get("as_of")
    asked = default
    if given is not None:
        try:
            day = date.fromisoformat(str(given).replace("/", "-"))
        except ValueError:
            return {"line": number, "error": f"as_of {given!r} is not a date like 2024-05-31"}
        if day > today:
            return {"line": number, "error": f"as_of {day} is in the future (today is {today})"}
        asked = as_of_given(day)
    try:
        answer = archive.ask(item["question"], k=k, filters=filters, as_of=asked)
    except USER_ERRORS as exc:
        return {"line": number, "error": str(exc)}
    return answer_json(answer) | {"as_of": str(asked.day)}


# --------------------------------------------------------------------------- console


@main.command()
@index_option
@backend_option
@reader_option
@click.option(
    "-k", "--k", "k", type=click.IntRange(1, 20), default=3, show_default=True, help="Quotes per answer."
)
@articles_option("Folder or file of articles kept in step while the console runs; repeatable.")
@feeds_options
@every_option(None)
def console(
    index_dir: Path,
    database_url: str | None,
    backend: str,
    reader: str,
    k: int,
    sources: tuple[Path, ...],
    feeds_file: Path | None,
    feeds_dir: Path | None,
    every: str | None,
) -> None:
    """Interactive question answering in the terminal (/help for commands).

    With --articles or --feeds the archive is refreshed in the background (first at once,
    then --every, default 15m); what changed shows between prompts."""
    from bot.console import Repl
    from bot.live import BackgroundRefresh

    where = location(database_url, index_dir)
    read_feeds(feeds_file)  # a broken feeds file fails now
    archive = open_archive(where, backend, reader)
    refresher = None
    if sources or feeds_file is not None:
        seconds = every_seconds(every or config.DEFAULT_EVERY) or 0.0
        state_dir = config.feeds_dir(where, feeds_dir)
        refresher = BackgroundRefresh(archive, sources, feeds_file, state_dir, seconds, first=0.0).start()
    try:
        Repl(archive, k=k, refresher=refresher).run()
    finally:
        if refresher is not None:
            refresher.stop()


# --------------------------------------------------------------------------- telegram


@main.command()
@index_option
@backend_option
@reader_option
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"File holding the bot token (instead of ${config.ENV_TELEGRAM_TOKEN}).",
)
@click.option(
    "--api-url",
    envvar=config.ENV_TELEGRAM_API_URL,
    show_envvar=True,
    default=config.DEFAULT_TELEGRAM_API_URL,
    show_default=True,
    help="Bot API base URL (for a self-hosted Bot API server); the token is appended.",
)
@click.option(
    "--allowed-ids",
    envvar=config.ENV_ALLOWED_IDS,
    show_envvar=True,
    help="Only these user/chat ids may use the bot (comma-separated). Default: everyone.",
)
@click.option(
    "--admin-ids",
    envvar=config.ENV_ADMIN_IDS,
    show_envvar=True,
    help="User ids allowed to run /reindex (comma-separated).",
)
@click.option(
    "--articles",
    "-a",
    "sources",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Article folder(s) /reindex and the background refresh read; repeatable. "
    "Default: seeds/ when present (unless --feeds is given).",
)
@feeds_options
@every_option(None)
@click.option(
    "-k", "--k", "k", type=click.IntRange(1, 10), default=3, show_default=True, help="Quotes per answer."
)
@click.option(
    "--rate-limit",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="Questions per user per minute (0: no limit).",
)
@click.option(
    "--max-follows",
    type=click.IntRange(0, 1000),
    default=20,
    show_default=True,
    help="Topics one chat may /follow (0: no topic alerts).",
)
@click.option(
    "--digest-hour",
    type=click.IntRange(0, 23),
    default=8,
    show_default=True,
    help="UTC hour from which the daily digests (/follow TOPIC --daily) are sent.",
)
@click.option(
    "--webhook-url",
    envvar=config.ENV_WEBHOOK_URL,
    show_envvar=True,
    help="Public HTTPS URL Telegram should post updates to (webhook mode). Default: long polling.",
)
@click.option(
    "--webhook-secret",
    envvar=config.ENV_WEBHOOK_SECRET,
    show_envvar=True,
    help="Secret Telegram sends with each webhook call (checked). Default: a random one per start.",
)
@click.option("--listen", default="127.0.0.1", show_default=True, help="Webhook mode: address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8443, show_default=True, help="Webhook port.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def telegram(**flags: Any) -> None:
    """Run the Telegram bot (token from $TELEGRAM_BOT_TOKEN or --token-file)."""
    import logging

    from retrieval.store import open_store

    given = TelegramFlags(**flags)
    where = location(given.database_url, given.index_dir)
    settings = telegram_settings(given, where)
    with user_errors():  # a missing index or database fails here, before any network
        probe = open_store(where)
        try:
            probe.manifest()
        finally:
            probe.close()

    from telegram.error import InvalidToken, NetworkError

    from bot.telegram import app as telegram_app
    from bot.telegram.logs import redact_in_logs

    logging.basicConfig(
        level=getattr(logging, given.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact_in_logs(settings.token)
    try:
        telegram_app.run(settings, lambda: open_archive(where, given.backend, given.reader))
    except InvalidToken as exc:
        raise click.ClickException(
            "Telegram rejected the bot token (unauthorized): check it, or get a new one from @BotFather"
        ) from exc
    except NetworkError as exc:
        reason = str(exc).replace(settings.token, "<token>")
        raise click.ClickException(
            f"cannot reach the Telegram Bot API at {settings.api_url}: {reason}"
        ) from exc


@dataclass(frozen=True)
class TelegramFlags:
    """The ``telegram`` command's flags, as click reads them."""

    index_dir: Path
    database_url: str | None
    backend: str
    reader: str
    token_file: Path | None
    api_url: str
    allowed_ids: str | None
    admin_ids: str | None
    sources: tuple[Path, ...]
    feeds_file: Path | None
    feeds_dir: Path | None
    every: str | None
    k: int
    rate_limit: int
    max_follows: int
    digest_hour: int
    webhook_url: str | None
    webhook_secret: str | None = field(repr=False)
    listen: str
    port: int
    log_level: str


def telegram_settings(given: TelegramFlags, where: Location) -> config.TelegramSettings:
    """The bot's settings from its flags, each checked (one line saying what is wrong)."""
    feeds = read_feeds(given.feeds_file)  # a broken feeds file fails now, not at the first round
    sources = given.sources
    if not sources and feeds is None and config.DEFAULT_ARTICLES.is_dir():
        sources = (config.DEFAULT_ARTICLES,)
    every = given.every
    seconds = every_seconds(every) if every else (config.parse_every(config.DEFAULT_EVERY) if feeds else None)
    try:
        settings = config.TelegramSettings(
            token=config.telegram_token(given.token_file),
            api_url=config.api_url(given.api_url),
            allowed_ids=config.parse_ids(given.allowed_ids, "--allowed-ids"),
            admin_ids=config.parse_ids(given.admin_ids, "--admin-ids"),
            sources=sources,
            feeds=given.feeds_file,
            feeds_dir=config.feeds_dir(where, given.feeds_dir),
            every=seconds,
            k=given.k,
            rate_calls=given.rate_limit,
            rate_seconds=60.0,
            max_follows=given.max_follows,
            digest_hour=given.digest_hour,
        )
        secret = config.webhook_secret(given.webhook_secret) if given.webhook_url else ""
    except config.SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if not given.webhook_url:
        return settings
    if not given.webhook_url.startswith("https://"):
        raise click.ClickException("--webhook-url must be an https:// URL (Telegram only posts over HTTPS)")
    return replace(settings, webhook=config.Webhook(given.webhook_url, secret, given.listen, given.port))
