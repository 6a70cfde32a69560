"""Time expressions of news questions read as date windows relative to the as-of date."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from retrieval.search.time_expressions import TimeReading, read_time
from tests.conftest import SHARED_EVAL

AS_OF = date(2024, 5, 8)  # a Wednesday; its ISO week runs 2024-05-06 .. 2024-05-12
EVAL = Path(os.environ.get("NEWSBOT_EVAL", SHARED_EVAL))
QUESTION_FILES = [EVAL / "realtimeqa-dev" / "questions.jsonl", EVAL / "realtimeqa-2024" / "questions.jsonl"]


def d(text: str) -> date:
    return date.fromisoformat(text)


def matched(question: str, reading: TimeReading) -> list[str]:
    return [question[a:b] for a, b in reading.spans]


@pytest.mark.parametrize(
    ("question", "phrase", "start", "end"),
    [
        ("What did the president say yesterday?", "yesterday", "2024-05-07", "2024-05-07"),
        ("Who won the vote today?", "today", "2024-05-08", "2024-05-08"),
        ("What did the Fed decide last week?", "last week", "2024-04-29", "2024-05-05"),
        ("Which storm hit Britain this week?", "this week", "2024-05-06", "2024-05-08"),
        ("Which company cut jobs last month?", "last month", "2024-04-01", "2024-04-30"),
        ("Which holiday is celebrated this month?", "this month", "2024-05-01", "2024-05-08"),
        ("Who won in May 2024?", "in May 2024", "2024-05-01", "2024-05-31"),
        ("What happened on June 3, 2024?", "on June 3, 2024", "2024-06-03", "2024-06-03"),
        ("What happened on June 3?", "on June 3", "2023-06-03", "2023-06-03"),
        ("How far have prices risen since March?", "since March", "2024-03-01", "2024-05-08"),
        ("How many hate crimes were reported in 2023?", "in 2023", "2023-01-01", "2023-12-31"),
        ("Which vegetable got dearer this year?", "this year", "2024-01-01", "2024-05-08"),
        ("How much power did wind produce last year?", "last year", "2023-01-01", "2023-12-31"),
        ("Which country recently launched a moon mission?", "recently", "2024-04-08", "2024-05-08"),
        ("Where did Drake perform last weekend?", "last weekend", "2024-05-04", "2024-05-05"),
        ("Who was arrested on Monday?", "on Monday", "2024-05-06", "2024-05-06"),
        ("Which team lost last Tuesday?", "last Tuesday", "2024-05-07", "2024-05-07"),
        ("How many jets were grounded earlier this month?", "earlier this month", "2024-05-01", "2024-05-08"),
        ("What did it rain in January and February?", "in January and February", "2024-01-01", "2024-02-29"),
        ("Who led the polls between March and May?", "between March and May", "2024-03-01", "2024-05-31"),
        ("What happened in the past two weeks?", "in the past two weeks", "2024-04-24", "2024-05-08"),
        ("How much rain fell over the last 3 days?", "over the last 3 days", "2024-05-05", "2024-05-08"),
        ("Who resigned a week ago?", "a week ago", "2024-04-29", "2024-05-05"),
        ("Which bridge collapsed two days ago?", "two days ago", "2024-05-06", "2024-05-06"),
        ("What did the king say this morning?", "this morning", "2024-05-08", "2024-05-08"),
        ("Who plays tonight?", "tonight", "2024-05-08", "2024-05-08"),
        ("What happened on 2024-05-06?", "on 2024-05-06", "2024-05-06", "2024-05-06"),
        ("What happened 2024-05-06?", "2024-05-06", "2024-05-06", "2024-05-06"),
    ],
)
def test_each_expression_maps_to_its_window(question: str, phrase: str, start: str, end: str) -> None:
    reading = read_time(question, AS_OF)
    assert reading.window is not None
    assert (reading.window.start, reading.window.end) == (d(start), d(end))
    assert matched(question, reading) == [phrase]
    assert reading.without_time(question) == re.sub(r"\s+", " ", question.replace(phrase, "")).replace(
        " ?", "?"
    )
    assert not reading.conflict


@pytest.mark.parametrize(
    ("as_of", "start", "end"),
    [
        (date(2024, 3, 10), "2023-05-01", "2023-05-31"),  # May 2024 has not begun: last year's
        (date(2024, 6, 10), "2024-05-01", "2024-05-31"),
        (date(2024, 5, 8), "2024-05-01", "2024-05-31"),  # the month under way keeps its calendar end
    ],
)
def test_a_month_without_a_year_is_the_most_recent_one_begun(as_of: date, start: str, end: str) -> None:
    reading = read_time("Who won in May?", as_of)
    assert reading.window is not None
    assert (reading.window.start, reading.window.end) == (d(start), d(end))
    assert reading.window.label == f"May {d(start).year}"


def test_a_day_without_a_year_is_the_most_recent_one_on_or_before_as_of() -> None:
    assert read_time("What happened on June 3?", date(2024, 6, 3)).window.start == d("2024-06-03")
    assert read_time("What happened on June 3?", date(2024, 6, 2)).window.start == d("2023-06-03")
    assert read_time("What happened on February 29?", date(2025, 3, 1)).window.start == d("2024-02-29")
    assert read_time("since March", date(2024, 2, 10)).window.start == d("2023-03-01")


def test_a_question_about_the_future_takes_the_coming_date() -> None:
    reading = read_time("Which eclipse will captivate millions on April 8?", date(2024, 4, 5))
    assert reading.window.start == d("2024-04-08") and reading.future
    assert read_time("Who will win in June?", AS_OF).window.start == d("2024-06-01")
    assert read_time("Who won in June?", AS_OF).window.start == d("2023-06-01")
    assert read_time("What will happen next week?", AS_OF).window.start == d("2024-05-13")
    assert not read_time("What happened last week?", AS_OF).future


def test_weekday_semantics_on_the_day_itself() -> None:
    monday = date(2024, 5, 6)
    assert read_time("Who was arrested on Monday?", monday).window.start == monday
    assert read_time("Who was arrested last Monday?", monday).window.start == d("2024-04-29")
    assert read_time("What happened this Friday?", monday).window.start == d("2024-05-10")
    assert read_time("Who won Tuesday's primary?", AS_OF).window.start == d("2024-05-07")


def test_calendar_forms() -> None:
    cases = {
        "on Sunday, Jan. 7, 2024": ("2024-01-07", "2024-01-07"),
        "on Monday, January 15th, 2024": ("2024-01-15", "2024-01-15"),
        "the 3rd of June 2023": ("2023-06-03", "2023-06-03"),
        "from August 15th to August 18th, 2024": ("2024-08-15", "2024-08-18"),
        "from April 2023 to April 2024": ("2023-04-01", "2024-04-30"),
        "in May of 2023": ("2023-05-01", "2023-05-31"),
        "in early May": ("2024-05-01", "2024-05-10"),
        "in late April": ("2024-04-21", "2024-04-30"),
        "in mid-2023": ("2023-05-01", "2023-08-31"),
        "between 2020 and 2022": ("2020-01-01", "2022-12-31"),
        "in the 1990s": ("1990-01-01", "1999-12-31"),
        "last May": ("2023-05-01", "2023-05-31"),
        "between November and February": ("2023-11-01", "2024-02-29"),
        "in the summer of 2023": ("2023-06-01", "2023-08-31"),
        "last winter": ("2023-12-01", "2024-02-29"),
        "over the weekend": ("2024-05-04", "2024-05-05"),
        "this past week": ("2024-05-01", "2024-05-08"),
        "in recent weeks": ("2024-04-10", "2024-05-08"),
        "since last week": ("2024-04-29", "2024-05-08"),
        "the day before yesterday": ("2024-05-06", "2024-05-06"),
    }
    for phrase, (start, end) in cases.items():
        question = f"What happened {phrase}?"
        reading = read_time(question, AS_OF)
        assert reading.window is not None, phrase
        assert (reading.window.start, reading.window.end) == (d(start), d(end)), phrase
        assert matched(question, reading) == [phrase], phrase


def test_labels() -> None:
    assert read_time("What happened this week?", AS_OF).window.label == "the week of 2024-05-06"
    # a week that starts on the 1st is still a week, a year to date still the year
    assert read_time("this week", date(2024, 4, 3)).window.label == "the week of 2024-04-01"
    assert read_time("this year", date(2024, 1, 20)).window.label == "2024"
    assert read_time("last week", AS_OF).window.label == "the week of 2024-04-29"
    assert read_time("in 2023", AS_OF).window.label == "2023"
    assert read_time("on June 3, 2024", AS_OF).window.label == "2024-06-03"
    assert read_time("over the weekend", AS_OF).window.label == "the weekend of 2024-05-04"
    assert read_time("since March", AS_OF).window.label == "2024-03-01 to 2024-05-08"


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("Who won, only in May?", ["only", "in May"]),
        ("What did the Fed say, only from last week?", ["only", "from last week"]),
        ("Give me articles from May only.", ["from May", "only"]),
        ("Who resigned? Only articles from 2023 please", ["Only", "from 2023"]),
        ("Exclusively from last month: who resigned?", ["Exclusively", "from last month"]),
    ],
)
def test_strict_when_the_question_insists(question: str, words: list[str]) -> None:
    reading = read_time(question, AS_OF)
    assert reading.window is not None and reading.window.strict
    assert matched(question, reading) == words
    assert not any(w in reading.without_time(question) for w in words)


def test_only_elsewhere_in_the_question_is_not_strict() -> None:
    for question in [
        "What is the only country that voted last week?",
        "Which state was the only one to ban it this year?",
        "Who won in May only two years after the war?",
    ]:
        reading = read_time(question, AS_OF)
        assert reading.window is not None and not reading.window.strict, question


@pytest.mark.parametrize(
    "question",
    [
        "Which storm hit Britain this week?",
        "Who won today?",
        "What is happening now?",
        "Which sport is currently underway?",
        "Who is the current speaker?",
        "Which company is the latest to cut jobs?",
        "Which country recently elected a leader?",
        "How many have died so far?",
        "Is the strike still on?",
        "What is the newest Oreo flavour?",
        "Which pop icon tours this year?",
        "Who leads the upcoming election?",
        "Who is the CEO of X?",
        "What has the Fed decided?",
        "Will the Fed cut rates?",
    ],
)
def test_present(question: str) -> None:
    reading = read_time(question, AS_OF)
    assert reading.present and not reading.past


@pytest.mark.parametrize(
    "question",
    [
        "What did the Fed decide last week?",
        "Who won in 2023?",
        "Who was the CEO last year?",
        "What happened yesterday?",
        "What did the second report say?",
        "What happened to Will Smith?",  # "Will" is a name here, not an auxiliary
        "Who is the CEO since last year?",  # present tense, but a past window
    ],
)
def test_not_present(question: str) -> None:
    assert not read_time(question, AS_OF).present


def test_past() -> None:
    assert read_time("What did the Fed decide last week?", AS_OF).past
    assert read_time("Who won in 2023?", AS_OF).past
    assert read_time("Who won two days ago?", AS_OF).past  # a past-time word, inside this week
    assert read_time("How many jets were grounded earlier this month?", AS_OF).past
    assert not read_time("Which storm hit Britain this week?", AS_OF).past
    assert not read_time("Who was arrested on Monday?", AS_OF).past  # this week's Monday
    assert not read_time("Who is the CEO of X?", AS_OF).past


@pytest.mark.parametrize(
    "question",
    [
        "Who may become the next speaker?",
        "Where did protesters march?",
        "What did the second report say?",
        "How many countries signed up to the deal?",
        "Who is Sat Nam?",
        "What happened to Will Smith?",
        "Will May resign?",
        "Who stars in Wednesday?",
        "What is Black Friday?",
        "What did the Sunday Times report?",
        "Who won on Super Tuesday?",
        "Which museum won the 2024 USA TODAY 10Best award?",
        "Which film won five awards at the 2024 Golden Globes?",
        "How did 2000 people die?",
        "Fireworks have been part of every July 4th celebration. Where were they invented?",
        "The contest takes place annually on July 4. Which food is eaten?",
        "Which classic game was beaten nearly 40 years after its release?",
        "What is the minimum age for users on TikTok?",
    ],
)
def test_no_false_dates(question: str) -> None:
    reading = read_time(question, AS_OF)
    assert reading.window is None
    assert reading.spans == ()
    assert reading.without_time(question) == question


def test_side_by_side_windows_that_contradict_give_a_conflict_and_no_window() -> None:
    question = "What did the Fed decide last week in 2019?"
    reading = read_time(question, AS_OF)
    assert reading.window is None
    assert "last week" in reading.conflict and "in 2019" in reading.conflict
    assert matched(question, reading) == ["last week", "in 2019"]
    assert reading.without_time(question) == "What did the Fed decide?"


def test_distant_disjoint_windows_are_two_events_and_the_narrowest_stands() -> None:
    question = "The most popular baby names of 2023 were announced this week. Which name is new?"
    reading = read_time(question, AS_OF)
    assert reading.conflict == ""
    assert (reading.window.start, reading.window.end) == (d("2024-05-06"), d("2024-05-08"))


def test_nested_windows_intersect_and_a_vague_one_yields() -> None:
    question = "Hamlin was hospitalized this week after a game on Monday. What team?"
    assert read_time(question, AS_OF).window.start == d("2024-05-06")
    assert read_time(question, AS_OF).window.end == d("2024-05-06")
    question = "Which state recently suffered two mass shootings this week?"
    reading = read_time(question, AS_OF)
    assert (reading.window.start, reading.window.end) == (d("2024-05-06"), d("2024-05-08"))
    assert matched(question, reading) == ["recently", "this week"]
    reading = read_time("A recent study published in 2023 says what?", AS_OF)
    assert (reading.window.start, reading.window.end) == (d("2023-01-01"), d("2023-12-31"))


def test_without_time_collapses_whitespace_and_keeps_punctuation_tight() -> None:
    question = "Who won   the vote , on Tuesday, March 5 ?"
    reading = read_time(question, AS_OF)
    assert reading.without_time(question) == "Who won the vote,?"
    assert read_time("Hi", AS_OF).without_time("Hi") == "Hi"


def test_a_datetime_as_of_is_read_as_its_day() -> None:
    assert read_time("yesterday", datetime(2024, 5, 8, 23, 59)).window.start == d("2024-05-07")


# --- the RealTime QA questions ----------------------------------------------------------

_TIME_WORD = (
    r"(?:in|on|of|at|since|during|throughout|from|between|and|to|over|as|only|exclusively|"
    r"the|this|last|next|past|previous|earlier|later|early|mid|late|recent|recently|lately|"
    r"today|tonight|yesterday|tomorrow|morning|afternoon|evening|night|ago|a|an|few|several|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|day|days|week|weeks|weekend|month|"
    r"months|year|years|decade|spring|summer|fall|autumn|winter|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"(?:19|20)\d\d|(?:19|20)\d0s|\d{1,2}(?:st|nd|rd|th)?)(?:['’]s)?"
)
TIME_SPAN = re.compile(rf"{_TIME_WORD}(?:[\s,.\-/]+{_TIME_WORD})*\.?", re.I)
CORE_TIME_WORD = re.compile(
    r"\b(?:recent|recently|lately|today|tonight|yesterday|tomorrow|ago|week|weeks|weekend|month|"
    r"months|year|years|decade|spring|summer|fall|autumn|winter|january|february|march|april|may|"
    r"june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|"
    r"nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?:19|20)\d\d)",
    re.I,
)

# Read by hand: each of these questions of the 200-question sample names a time, and
# every other one of the sample names none that the module reads (attributive years such
# as "the 2024 Golden Globes", durations such as "in 400 years", holidays).
SAMPLE_WITH_WINDOW = {
    "20230106_0", "20230106_2", "20230106_8", "20230106_11", "20230106_17", "20230106_26",
    "20230113_4", "20230113_11", "20230113_17", "20230120_2", "20230120_5", "20230120_11",
    "20230120_14", "20230120_21", "20230120_28", "20230127_2", "20230127_5", "20230127_8",
    "20230127_18", "20240105_3", "20240105_10", "20240105_17", "20240112_0", "20240112_6",
    "20240112_16", "20240112_25", "20240119_6", "20240119_13", "20240119_28", "20240126_6",
    "20240126_10", "20240126_13", "20240126_16", "20240126_27", "20240202_3", "20240202_17",
    "20240209_10", "20240209_13", "20240209_16", "20240216_7", "20240216_11", "20240216_14",
    "20240216_17", "20240223_11", "20240223_14", "20240223_17", "20240301_12", "20240301_18",
    "20240308_15", "20240315_8", "20240315_14", "20240315_17", "20240322_2", "20240322_8",
    "20240322_11", "20240322_14", "20240322_17", "20240329_0", "20240329_3", "20240405_2",
    "20240405_9", "20240405_16", "20240412_3", "20240412_10", "20240412_13", "20240412_16",
    "20240412_19", "20240419_7", "20240419_9", "20240419_15", "20240426_19", "20240503_7",
    "20240503_10", "20240503_14", "20240510_10", "20240517_10", "20240517_16", "20240524_12",
    "20240531_10", "20240531_16", "20240531_19", "20240531_29", "20240607_10", "20240607_13",
    "20240607_16", "20240614_12", "20240614_15",
}  # fmt: skip


def _questions() -> list[dict[str, str]]:
    if not all(path.exists() for path in QUESTION_FILES):
        pytest.skip(f"RealTime QA questions not found under {EVAL}")
    rows: list[dict[str, str]] = []
    for path in QUESTION_FILES:
        rows.extend(
            json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        )
    return rows


def _as_of(row: dict[str, str]) -> date:
    return date(*map(int, row["date"].replace("/", "-").split("-")))


def test_real_questions_carry_no_false_dates() -> None:
    rows = _questions()
    for row in rows:
        question = row["question"]
        reading = read_time(question, _as_of(row))
        for a, b in reading.spans:
            text = question[a:b]
            assert TIME_SPAN.fullmatch(text), (row["id"], text)
            if text.lower() not in ("only", "exclusively"):
                assert CORE_TIME_WORD.search(text), (row["id"], text)
        assert not reading.conflict, (row["id"], reading.conflict)


def test_real_question_sample_has_the_hand_checked_windows() -> None:
    rows = _questions()
    sample = [rows[i * len(rows) // 200] for i in range(200)]
    with_window = {row["id"] for row in sample if read_time(row["question"], _as_of(row)).window}
    assert with_window == SAMPLE_WITH_WINDOW
