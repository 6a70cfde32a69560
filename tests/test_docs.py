"""The README and docs/ tested like code: every command, option, path and link they name exists,
and every command and option is documented (as sqlite-utils' tests/test_docs.py does)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from bot.cli import main
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
#: what the README is for a newcomer: read in five minutes
README_MAX_BYTES = 15_000
#: the reference pages every README links to
REFERENCE = ("telegram", "postgresql", "languages", "feeds", "architecture", "benchmarks")

# a path of the project: retrieval/…, bot/…, tests/…, bench/…, docs/… (a file or a folder)
_PATH = re.compile(r"(?<![\w./-])((?:retrieval|bot|tests|bench|docs)/[\w./-]*\w/?)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def code(page: Path) -> list[str]:
    """Inline code spans and the lines of fenced blocks."""
    body = text(page)
    lines = [line for block in _FENCE.findall(body) for line in block.splitlines()]
    return [*_CODE_SPAN.findall(_FENCE.sub("", body)), *lines]


def command_lines(page: Path) -> list[tuple[str, str]]:
    """(command, the rest) of every ``newsbot COMMAND …`` the page shows as code."""
    found = []
    for snippet in code(page):
        m = re.match(r"\s*(?:\$\s*)?newsbot\s+([a-z][\w-]*)(.*)", snippet)
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def options_of(command: click.Command) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings."""
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+)$", _FENCE.sub("", text(page)), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def test_the_readme_is_short_and_links_every_reference_page() -> None:
    assert len(text(README).encode("utf-8")) <= README_MAX_BYTES
    for name in REFERENCE:
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
        assert f"](docs/{name}.md" in text(README), f"the README does not link docs/{name}.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_path_named_exists(page: Path) -> None:
    outputs = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}
    named = {p.rstrip("/.") for p in _PATH.findall(text(page))}
    missing = sorted(p for p in named if not (ROOT / p).exists() and p not in outputs)
    assert not missing, f"{page.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_leads_somewhere(page: Path) -> None:
    for target in _LINK.findall(text(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https://…, mailto:…
        path, _, anchor = target.partition("#")
        goal = (page.parent / path).resolve() if path else page
        assert goal.is_file(), f"{page.name}: {target} leads nowhere"
        if anchor and goal.suffix == ".md":
            assert anchor in anchors(goal), f"{page.name}: no heading #{anchor} in {goal.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_and_option_shown_exists(page: Path) -> None:
    for name, rest in command_lines(page):
        assert name in main.commands, f"{page.name}: `newsbot {name}` is no command"
        unknown = set(_OPTION.findall(rest)) - options_of(main.commands[name])
        assert not unknown, f"{page.name}: `newsbot {name}` has no option {sorted(unknown)}"


def test_every_option_named_alone_or_of_a_bench_script_exists() -> None:
    """An option in prose (``--as-of``) is a command's, a Telegram command's (``--daily``) or a
    bench script's; one of ``python bench/x.py --y`` is that script's."""
    known = set().union(*(options_of(c) for c in main.commands.values()))
    scripts = "".join(
        p.read_text(encoding="utf-8") for d in ("bot", "bench") for p in (ROOT / d).rglob("*.py")
    )
    for page in PAGES:
        for snippet in code(page):
            script = re.search(r"(bench/\w+\.py)", snippet)
            if script:
                source = (ROOT / script.group(1)).read_text(encoding="utf-8")
                for option in _OPTION.findall(snippet[script.end() :]):
                    assert f'"{option}"' in source, f"{page.name}: {script.group(1)} has no option {option}"
            elif snippet.lstrip().startswith("-"):
                for option in _OPTION.findall(snippet):
                    assert option in known or f'"{option}"' in scripts, (
                        f"{page.name}: {option} is nobody's option"
                    )


def test_every_command_and_option_is_documented() -> None:
    shown = {name for page in PAGES for name, _ in command_lines(page)}
    assert set(main.commands) <= shown, f"undocumented commands: {sorted(set(main.commands) - shown)}"
    everything = "\n".join(text(p) for p in PAGES)
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and not any(o in everything for o in param.opts):
                pytest.fail(f"`newsbot {name}` {param.opts[0]} is documented nowhere")
