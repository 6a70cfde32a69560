"""The newsbot command line, run in-process with click's CliRunner (fake embedder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import ROOT, SEEDS, write

MODEL = "hashing-64"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def index_dir(tmp_path: Path, runner: CliRunner) -> Path:
    idx = tmp_path / "index"
    result = runner.invoke(main, ["index", "--articles", str(SEEDS), "--index", str(idx), "--model", MODEL])
    assert result.exit_code == 0, result.output
    return idx


def test_index_json_summary_then_up_to_date(tmp_path: Path, runner: CliRunner) -> None:
    idx = tmp_path / "index"
    args = ["index", "-a", str(SEEDS), "--index", str(idx), "--model", MODEL, "--json"]
    first = json.loads(runner.invoke(main, args).output)
    assert first["added"] == ["000_d8fc6cbf703c6a65"] and first["wrote"] is True
    assert first["passages"] == first["embedded"] > 0
    assert {"removed", "updated", "unchanged", "skipped", "seconds", "passages_per_second"} <= first.keys()
    # The index remembers its model: no --model needed later.
    second = runner.invoke(main, ["index", "-a", str(SEEDS), "--index", str(idx)])
    assert second.exit_code == 0
    assert "index already up to date" in second.output
    assert MODEL in second.output


def test_index_reports_skipped_files(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "src"
    write(src / "ok.txt", "The harbour reopened on Monday.")
    write(src / "broken.json", "{")
    result = runner.invoke(main, ["index", "-a", str(src), "--index", str(tmp_path / "i"), "--model", MODEL])
    assert result.exit_code == 0
    out = " ".join(result.output.split())  # rich wraps long paths at the terminal's width
    assert "skipped" in out and "broken.json" in out and "malformed JSON" in out


def test_index_says_why_an_empty_folder_removed_nothing(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "src"
    write(src / "a.txt", "The harbour reopened on Monday.")
    write(src / "b.txt", "The bridge closed on Friday.")
    args = ["index", "-a", str(src), "--index", str(tmp_path / "i"), "--model", MODEL]
    assert runner.invoke(main, args).exit_code == 0
    for f in src.iterdir():
        f.unlink()
    result = runner.invoke(main, args)
    assert result.exit_code == 0
    out = " ".join(result.output.split())
    assert "removed 0" in out and "kept 2 articles: the folder" in out and "is empty now" in out


def test_index_missing_folder_is_a_clear_error(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["index", "-a", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_index_with_another_model_says_full(index_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["index", "-a", str(SEEDS), "--index", str(index_dir), "--model", "hashing-32"]
    )
    assert result.exit_code == 1
    assert "--full" in result.output and "Traceback" not in result.output


def test_ask_json_shape_and_verbatim_quotes(index_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        ["ask", "Where was the Afghanistan conference held?", "--index", str(index_dir), "--json", "-k", "3"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"question", "answered", "quotes"}
    assert 1 <= len(data["quotes"]) <= 3
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8").strip()
    for q in data["quotes"]:
        assert {
            "text",
            "article_id",
            "title",
            "source",
            "published",
            "url",
            "path",
            "score",
            "start",
            "end",
        } <= q.keys()
        assert text[q["start"] : q["end"]] == q["text"]
        assert q["source"] == "RASC News Agency"
    scores = [q["score"] for q in data["quotes"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_json_shows_the_english_words_a_chinese_question_was_searched_with(
    index_dir: Path, runner: CliRunner
) -> None:
    result = runner.invoke(main, ["ask", "阿富汗会议在哪里举行？", "--index", str(index_dir), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "Afghanistan" in data["searched_as"]["en"] and "conference" in data["searched_as"]["en"]
    assert data["quotes"] and data["quotes"][0]["source"] == "RASC News Agency"
    english = runner.invoke(main, ["ask", "Where was it held?", "--index", str(index_dir), "--json"])
    assert "searched_as" not in json.loads(english.output)


def test_ask_reads_questions_from_stdin(index_dir: Path, runner: CliRunner) -> None:
    stdin = "Who is Naghiyev?\n\nWhat about drug trafficking?\n"
    result = runner.invoke(main, ["ask", "--index", str(index_dir), "--json"], input=stdin)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [x["question"] for x in lines] == ["Who is Naghiyev?", "What about drug trafficking?"]


def test_ask_terminal_output_names_the_source(index_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["ask", "What did Naghiyev say about drug trafficking?", "--index", str(index_dir)]
    )
    assert result.exit_code == 0
    flat = " ".join(result.output.split())  # the terminal renderer wraps lines
    assert "drug trafficking" in flat
    assert "RASC News Agency" in flat


def test_ask_without_index_names_the_fix(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["ask", "anything", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "newsbot index" in result.output and "Traceback" not in result.output


def test_ask_filters(index_dir: Path, runner: CliRunner) -> None:
    args = ["ask", "conference", "--index", str(index_dir), "--json"]
    other = json.loads(runner.invoke(main, [*args, "--source", "Reuters"]).output)
    assert other["quotes"] == [] and other["answered"] is False and "filters" in other["notice"]
    same = json.loads(runner.invoke(main, [*args, "--source", "rasc"]).output)
    assert same["quotes"]
    bad = runner.invoke(main, [*args, "--since", "2023-02-01", "--until", "2023-01-01"])
    assert bad.exit_code == 2 and "after" in bad.output
    bad_date = runner.invoke(main, [*args, "--since", "yesterday"])
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "a" * 10_000,
        "what\x00 about\x1b[31m the\x07 conference?",
        "🙂🙂🙂",
        "Где прошла конференция?",
        "会议在哪里举行？",
        "؟",
    ],
)
def test_ask_odd_questions_never_crash(index_dir: Path, runner: CliRunner, question: str) -> None:
    result = runner.invoke(main, ["ask", question, "--index", str(index_dir), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "\x00" not in data["question"] and "\x1b" not in data["question"]
    if not question.strip():
        assert data["quotes"] == [] and data["notice"]


def test_console_piped_input(index_dir: Path, runner: CliRunner) -> None:
    stdin = "/help\nWhere was the conference held?\nand when was that?\n/more\n/sources\n/stats\n/filter source=Nobody\nWho spoke?\n/filter clear\n/nonsense\n/quit\nnever asked\n"
    result = runner.invoke(main, ["console", "--index", str(index_dir)], input=stdin)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "/more" in out and "Q: Where was the conference held?" in out
    assert "(searching: and when was that? conference held)" in out
    assert "RASC News Agency" in out
    assert "articles" in out and MODEL in out
    assert "No article matches those filters." in out
    assert "unknown command /nonsense" in out
    assert "never asked" not in out


def test_python_dash_m_bot_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("index", "ask", "console"):
        assert command in result.stdout


def test_output_through_a_pipe_is_not_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-folder-with-a-rather-long-name-" * 4) / "articles"
    write(deep / "story.md", "# Harbour\n\nThe harbour reopened on Monday after the storm.\n")
    write(deep / "empty.md", "")
    index = tmp_path / ("another-long-folder-name-for-the-index-" * 3)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "index", "-a", str(deep), "--index", str(index), "--model", MODEL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": ""},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(str(index) in line for line in lines), result.stdout  # the index row, whole
    assert any(str(deep / "empty.md") in line for line in lines), result.stdout


# --------------------------------------------------------------------------- hostile input


def test_piped_questions_with_markup_are_all_answered(index_dir: Path, runner: CliRunner) -> None:
    stdin = "Who?\nWhat [/] now [bold]?\nWho won?\n"
    result = runner.invoke(main, ["ask", "--index", str(index_dir)], input=stdin)
    assert result.exit_code == 0, result.output
    for question in ("Q: Who?", "Q: What [/] now [bold]?", "Q: Who won?"):
        assert question in result.output


def test_index_summary_prints_names_and_ids_literally(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "src"
    write(src / "[" / "]x.doc", "not an article")
    write(src / "a.txt", "The harbour reopened on Monday.")
    write(src / "b.txt", "The harbour reopened on Monday.")
    write(src / "esc\x1b[2J.doc", "x")
    write(src / "d.md", "---\npublished: 2023-02-30\n---\nThe dam opened.\n")
    result = runner.invoke(main, ["index", "-a", str(src), "--index", str(tmp_path / "i"), "--model", MODEL])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())  # the terminal renderer wraps lines
    assert f"skipped {src}/[/]x.doc: unsupported file type '.doc'" in flat
    assert f"duplicate {src}/b.txt [b]: same text as a" in flat
    assert f"skipped {src}/esc␛[2J.doc" in flat and "\x1b" not in result.output
    assert f"warning {src}/d.md: published date 2023-02-30 is not a real date; indexed without a date" in flat
    assert "skipped 2 warnings 1 duplicates 1" in flat


def test_json_output_is_valid_utf8_whatever_the_names(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "src"
    write(src / "ok.txt", "The harbour reopened on Monday.")
    (Path(os.fsdecode(os.fsencode(src) + b"/caf\xe9.doc"))).write_text("x")
    (Path(os.fsdecode(os.fsencode(src) + b"/caf\xe9.txt"))).write_text("The caf\u00e9 reopened on Monday.")
    args = ["index", "-a", str(src), "--index", str(tmp_path / "i"), "--model", MODEL, "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout_bytes.decode("utf-8"))
    assert {"path": f"{src}/caf\\xe9.doc", "reason": "unsupported file type '.doc'"} in report["skipped"]
    asked = runner.invoke(main, ["ask", "café caf\udce9", "--index", str(tmp_path / "i"), "--json"])
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout_bytes.decode("utf-8"))
    assert answer["question"].startswith("café")
    assert f"{src}/caf\\xe9.txt" in {q["path"] for q in answer["quotes"]}


def test_console_sources_with_markup_in_titles(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "src"
    write(
        src / "bridge.md",
        "---\ntitle: Bridge [/] opens\nsource: '[link=https://evil.example]X[/link]'\n---\nThe bridge opened.\n",
    )
    idx = tmp_path / "i"
    assert (
        runner.invoke(main, ["index", "-a", str(src), "--index", str(idx), "--model", MODEL]).exit_code == 0
    )
    stdin = "bridge [/]?\n/sources\n/filter source=[/]\n/stats\n"
    result = runner.invoke(main, ["console", "--index", str(idx)], input=stdin)
    assert result.exit_code == 0, result.output
    assert "Q: bridge [/]?" in result.output
    assert "1. [link=https://evil.example]X[/link] · “Bridge [/] opens”" in result.output
    assert "Filter: source=[/]" in result.output


def _wire_index(tmp_path: Path, runner: CliRunner) -> Path:
    """Three outlets' copies of one wire story (one with markup and an escape in its name)."""
    from tests.retrieval.test_store_contract import COPIES, write_copy

    src = tmp_path / "src"
    names = {"ap": "AP", "reuters": "[bold]Reuters[/bold]", "npr": "NPR\x1b[2J"}
    for article_id, (_, url, published, text) in COPIES.items():
        write_copy(src, article_id, names[article_id], url, published, text)
    idx = tmp_path / "index"
    args = ["index", "-a", str(src), "--index", str(idx), "--model", MODEL, "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["stories"], report["grouped"]) == (1, 3)
    return idx


def test_ask_json_lists_the_other_copies_of_a_quoted_story(tmp_path: Path, runner: CliRunner) -> None:
    from tests.retrieval.test_store_contract import BRIDGES, COPIES

    idx = _wire_index(tmp_path, runner)
    result = runner.invoke(main, ["ask", BRIDGES, "--index", str(idx), "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    quotes = json.loads(result.output)["quotes"]
    assert quotes and len({q["article_id"] for q in quotes}) == 1  # one copy quoted
    also = quotes[0]["also"]
    assert sorted(c["article_id"] for c in also) == sorted(set(COPIES) - {quotes[0]["article_id"]})
    for c in also:
        assert set(c) == {"article_id", "source", "title", "url", "published"}
        assert c["url"] == COPIES[c["article_id"]][1]


def test_ask_terminal_says_who_else_reported_it_literally(tmp_path: Path, runner: CliRunner) -> None:
    from tests.retrieval.test_store_contract import BRIDGES

    idx = _wire_index(tmp_path, runner)
    result = runner.invoke(main, ["ask", BRIDGES, "--index", str(idx), "-k", "1"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "also reported by" in x)
    assert line.strip().startswith("also reported by ")
    assert len([n for n in ("AP", "[bold]Reuters[/bold]", "NPR␛[2J") if n in line]) == 2
    assert "\x1b" not in result.output


def test_ask_leads_with_the_short_answer_in_the_terminal_and_in_json(
    tmp_path: Path, runner: CliRunner
) -> None:
    write(
        tmp_path / "src" / "summit.md",
        "---\nsource: Summit News\npublished: 2024-03-01\n---\nOfficials met in the capital. "
        "The summit was hosted by Azerbaijan and drew officials from 20 countries.\n",
    )
    idx = str(tmp_path / "i")
    assert (
        runner.invoke(
            main, ["index", "-a", str(tmp_path / "src"), "--index", idx, "--model", MODEL]
        ).exit_code
        == 0
    )
    question = "How many countries sent officials to the summit?"
    data = json.loads(runner.invoke(main, ["ask", question, "--index", idx, "--json"]).output)
    short, first = data["short"], data["quotes"][0]
    assert short["text"] == "20" and short["article_id"] == first["article_id"]
    assert first["text"][short["start"] - first["start"] : short["end"] - first["start"]] == "20"
    assert isinstance(data["confidence"], float)
    shown = runner.invoke(main, ["ask", question, "--index", idx]).output
    assert shown.splitlines()[0] == "Answer: 20"


def test_ask_as_of_refuses_a_future_day_and_a_non_date(index_dir: Path, runner: CliRunner) -> None:
    future = runner.invoke(main, ["ask", "Where?", "--index", str(index_dir), "--as-of", "2999-01-01"])
    assert future.exit_code == 2 and "is in the future" in future.output
    nonsense = runner.invoke(main, ["ask", "Where?", "--index", str(index_dir), "--as-of", "last tuesday"])
    assert nonsense.exit_code == 2 and "is not a date like 2023-01-31" in nonsense.output


def test_ask_jsonl_answers_each_line_and_says_what_is_wrong_with_the_others(
    index_dir: Path, runner: CliRunner
) -> None:
    lines = [
        '{"question": "Where was the Afghanistan conference held?", "as_of": "2024-01-10"}',
        "not json",
        '{"question": "Where?", "as_of": "2999-01-01"}',
        '{"question": "Where?", "as_of": "soon"}',
        '{"as_of": "2024-01-10"}',
        '{"question": "What happened only in 1850?"}',
    ]
    result = runner.invoke(main, ["ask", "--jsonl", "--index", str(index_dir)], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == 6
    assert out[0]["as_of"] == "2024-01-10" and out[0]["quotes"]
    assert out[1] == {"line": 2, "error": "not JSON: Expecting value"}
    assert "in the future" in out[2]["error"] and "not a date" in out[3]["error"]
    assert out[4]["error"] == 'expected an object with a "question" string'
    assert out[5]["quotes"] == [] and out[5]["notice"] == "No article from 1850 in the archive."
    with_question = runner.invoke(main, ["ask", "Where?", "--jsonl", "--index", str(index_dir)])
    assert with_question.exit_code == 2 and "leave QUESTION out" in with_question.output


def test_every_command_quiets_the_schedulers_info_lines(tmp_path: Path, runner: CliRunner) -> None:
    import logging

    logging.getLogger("apscheduler").setLevel(logging.INFO)  # as logging.basicConfig(level=INFO) leaves it
    runner.invoke(main, ["sources", "--index", str(tmp_path / "none")])
    # PTB's job queue (apscheduler) logs every refresh round at INFO otherwise
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == logging.WARNING


def test_ask_reads_with_the_chosen_reader(index_dir: Path, runner: CliRunner) -> None:
    """--reader learned (the default) and --reader rules both answer with verbatim quotes;
    the learned reader's confidence is its probability; an unknown reader is refused."""
    question = "Where was the Afghanistan conference held?"
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8").strip()
    by_reader = {}
    for reader in ("learned", "rules"):
        result = runner.invoke(
            main, ["ask", question, "--index", str(index_dir), "--json", "--reader", reader]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert all(text[q["start"] : q["end"]] == q["text"] for q in data["quotes"])
        by_reader[reader] = data
    default = runner.invoke(main, ["ask", question, "--index", str(index_dir), "--json"])
    assert json.loads(default.output)["confidence"] == by_reader["learned"]["confidence"]
    assert by_reader["learned"]["confidence"] != by_reader["rules"]["confidence"]
    env = runner.invoke(
        main, ["ask", question, "--index", str(index_dir), "--json"], env={"NEWSBOT_READER": "rules"}
    )
    assert json.loads(env.output)["confidence"] == by_reader["rules"]["confidence"]
    bad = runner.invoke(main, ["ask", question, "--index", str(index_dir), "--reader", "neural"])
    assert bad.exit_code == 2 and "'neural' is not one of 'learned', 'rules'" in bad.output
