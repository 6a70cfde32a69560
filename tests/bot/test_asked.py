"""The as-of day: one value per interface call, "today" decided in bot/asked.py alone."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot import asked
from bot.cli import main
from retrieval.archive import Archive
from retrieval.types import AsOf
from tests.bot.test_cli import index_dir, runner  # noqa: F401  (fixtures)

DAY = date(2024, 1, 10)


def test_a_given_day_limits_what_is_quoted_a_message_day_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asked, "today", lambda: DAY)
    assert asked.as_of_given(date(2023, 5, 1)) == AsOf(date(2023, 5, 1), given=True)
    assert asked.as_of_given(None) == AsOf(DAY, given=False)
    assert asked.as_of_on(date(2023, 5, 1)) == AsOf(date(2023, 5, 1), given=False)
    assert asked.as_of_on() == AsOf(DAY)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[AsOf | None]:
    """ "Today" is DAY; every as-of the archive is asked with is recorded."""
    monkeypatch.setattr(asked, "today", lambda: DAY)
    calls: list[AsOf | None] = []
    ask = Archive.ask

    def spy(self: Archive, question: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("as_of"))
        return ask(self, question, *args, **kwargs)

    monkeypatch.setattr(Archive, "ask", spy)
    return calls


def test_ask_takes_today_from_one_place(index_dir: Path, runner: CliRunner, seen: list[AsOf | None]) -> None:  # noqa: F811
    plain = runner.invoke(
        main, ["ask", "Where was the conference held?", "--json", "--index", str(index_dir)]
    )
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output)["as_of"] == "2024-01-10" and seen == [AsOf(DAY)]

    given = ["ask", "Where?", "--json", "--index", str(index_dir), "--as-of", "2023-12-01"]
    assert json.loads(runner.invoke(main, given).output)["as_of"] == "2023-12-01"
    assert seen[-1] == AsOf(date(2023, 12, 1), given=True)

    future = runner.invoke(main, ["ask", "Where?", "--index", str(index_dir), "--as-of", "2024-01-11"])
    assert future.exit_code == 2 and "today is 2024-01-10" in future.output

    lines = '{"question": "Where?"}\n{"question": "Where?", "as_of": "2023-12-01"}\n'
    out = runner.invoke(main, ["ask", "--jsonl", "--index", str(index_dir)], input=lines).output
    assert [json.loads(line)["as_of"] for line in out.splitlines()] == ["2024-01-10", "2023-12-01"]
    assert seen[-2:] == [AsOf(DAY), AsOf(date(2023, 12, 1), given=True)]


def test_the_console_asks_as_of_today(index_dir: Path, runner: CliRunner, seen: list[AsOf | None]) -> None:  # noqa: F811
    result = runner.invoke(
        main, ["console", "--index", str(index_dir)], input="Where was the conference held?\n"
    )
    assert result.exit_code == 0, result.output
    assert seen == [AsOf(DAY)]
