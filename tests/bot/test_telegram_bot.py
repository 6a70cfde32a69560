"""The real PTB Application over real HTTP against the fake Bot API server."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import aiohttp
import pytest

from bot import render_telegram as tg
from bot.telegram.app import ALLOWED_UPDATES, APOLOGY
from bot.telegram.logs import TokenRedactor
from retrieval.archive import Archive
from tests.bot.conftest import running_bot
from tests.bot.fake_telegram import BOT_USERNAME, Call, FakeTelegram
from tests.bot.tg_html import utf16_len, visible_text

QUESTION = "Where was the Afghanistan security conference held?"


def _visible(calls: list[Call]) -> list[str]:
    """The text of each message, checked as Telegram HTML."""
    out = []
    for c in calls:
        assert c.params.get("parse_mode") == "HTML"
        assert utf16_len(c.params["text"]) <= 4096
        out.append(visible_text(c.params["text"]))
    return out


def _buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def _as_message(call: Call) -> dict[str, Any]:
    """The message a sendMessage call created (what a button press refers to)."""
    assert isinstance(call.result, dict)
    return call.result


# --------------------------------------------------------------------------- start-up, commands


async def test_start_registers_commands_and_help_tells_what_the_bot_knows(
    fake_tg: FakeTelegram, archive: Archive
) -> None:
    async with running_bot(fake_tg, archive):
        (menu,) = fake_tg.called("setMyCommands")
        names = {c["command"] for c in menu.params["commands"]}
        assert {"start", "help", "ask", "more", "sources", "stats"} <= names
        assert "reindex" not in names

        await fake_tg.send_text("/start", chat_id=11)
        (text,) = _visible(await fake_tg.wait_sent(11))
        stats = archive.stats()
        assert f"I know {stats.articles} articles from {len(stats.sources)} outlets" in text
        assert "RASC News Agency" in text and "Coastal Gazette" in text
        assert f"{stats.first_published} – {stats.last_published}" in text
        assert "for example:" in text and "What do the articles say about" in text
        assert "/more" in text and "/sources" in text

        await fake_tg.send_text("/help", chat_id=11)
        help_text = _visible(await fake_tg.wait_sent(11, 2))[1]
        assert help_text == text

        await fake_tg.send_text("/stats", chat_id=11)
        stats_text = _visible(await fake_tg.wait_sent(11, 3))[2]
        assert f"Articles: {stats.articles}" in stats_text and "Passages:" in stats_text

        await fake_tg.send_text("/frobnicate", chat_id=11)
        assert "/frobnicate" in _visible(await fake_tg.wait_sent(11, 4))[3]


async def test_admins_get_reindex_in_their_command_menu(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive, admin_ids=frozenset({42})):
        scoped = [c for c in fake_tg.called("setMyCommands") if c.params.get("scope")]
        assert [c.params["scope"] for c in scoped] == [{"type": "chat", "chat_id": 42}]
        assert "reindex" in {c["command"] for c in scoped[0].params["commands"]}


# --------------------------------------------------------------------------- questions


async def test_a_question_gets_quotes_sources_and_buttons(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive):
        asked = await fake_tg.send_text(QUESTION, chat_id=21)
        (call,) = await fake_tg.wait_sent(21)
        html_text = call.params["text"]
        (text,) = _visible([call])
        assert "<blockquote>" in html_text and "<b>" in html_text
        assert "[1] RASC News Agency" in text
        assert "Baku" in text  # the fake embedder's lexical side finds it too
        assert "reply_parameters" not in call.params  # private chats: no quoting of the question
        buttons = _buttons(call)
        assert buttons[0] == ("More ▸", "more:1")
        assert any(label.startswith("📄 Full article [1] · RASC News Agency") for label, _ in buttons)
        assert asked["text"] == QUESTION


async def test_more_sources_and_the_buttons(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive, k=1):
        await fake_tg.send_text("What did Naghiyev say about Afghanistan?", chat_id=31)
        (first,) = await fake_tg.wait_sent(31)
        first_text = _visible([first])[0]

        await fake_tg.send_text("/more", chat_id=31)
        second = (await fake_tg.wait_sent(31, 2))[1]
        more_text = _visible([second])[0]
        assert more_text.startswith("More for What did Naghiyev say about Afghanistan?")
        assert more_text.split(":", 1)[1].strip()[:60] not in first_text  # a new quote, not a repeat

        # The inline "More" button under the first answer gives the next page again,
        # and is removed from that message.
        data = dict((d, label) for label, d in _buttons(first))
        assert "more:1" in data
        await fake_tg.press(_as_message(first), "more:1", user_id=31)
        third = (await fake_tg.wait_sent(31, 3))[2]
        assert _visible([third])[0].startswith("More for")
        (edit,) = await fake_tg.wait_called("editMessageReplyMarkup")
        assert edit.params["message_id"] == first.result["message_id"]
        assert all(not d.startswith("more:") for _, d in _buttons(edit))
        assert fake_tg.called("answerCallbackQuery")

        await fake_tg.send_text("/sources", chat_id=31)
        sources = (await fake_tg.wait_sent(31, 4))[3]
        sources_text = _visible([sources])[0]
        assert sources_text.startswith("Sources for What did Naghiyev say about Afghanistan?")
        assert "[1] RASC News Agency" in sources_text and "quote" in sources_text

        # "Full article" sends the whole text of source 1.
        article_button = next(d for label, d in _buttons(first) if d.startswith("art:"))
        await fake_tg.press(_as_message(first), article_button, user_id=31)
        full = (await fake_tg.wait_sent(31, 5))[4]
        seed = next(a for a in archive.articles() if a.source == "RASC News Agency")
        full_text = _visible([full])[0]
        assert seed.text.split("\n")[-1] in full_text  # the last paragraph, verbatim
        assert full_text.startswith(seed.title)


async def test_more_without_a_question_and_stale_buttons(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive):
        await fake_tg.send_text("/more", chat_id=32)
        assert "Ask a question first" in _visible(await fake_tg.wait_sent(32))[0]
        await fake_tg.send_text("/sources", chat_id=32)
        assert "ask a question first" in _visible(await fake_tg.wait_sent(32, 2))[1]
        bot_message = _as_message(fake_tg.sent(32)[0])
        await fake_tg.press(bot_message, "more:99", user_id=32)
        (answer,) = await fake_tg.wait_called("answerCallbackQuery")
        assert "too old" in answer.params["text"]


async def test_article_text_is_escaped(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive, k=3):
        await fake_tg.send_text("What did the committee find in the AT&T filing?", chat_id=41)
        (call,) = await fake_tg.wait_sent(41)
        html_text = call.params["text"]
        text = _visible([call])[0]
        assert "<script>" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
        assert "AT&amp;T" in html_text
        assert "<script>alert(1)</script>" in text and "x < y and y > z" in text
        assert 'href="https://example.org/markup?a=1&amp;b=2#:~:text=' in html_text  # opens at the quote
        assert "Tag & Bracket Weekly" in text

        await fake_tg.send_text("What did the committee members write in the report?", chat_id=41)
        call = (await fake_tg.wait_sent(41, 2))[1]
        text = _visible([call])[0]
        for verbatim in ("*stars*", "_underscores_", "`backticks`", "@someone", "#hashtag", "/start"):
            assert verbatim in text
        full = next(d for label, d in _buttons(call) if "Tag & Bracket" in label)
        await fake_tg.press(_as_message(call), full, user_id=41)
        article = _visible([(await fake_tg.wait_sent(41, 3))[2]])[0]
        assert "A <b>fake bold</b> tag and &amp; an entity" in article
        assert 'Escaping <tags> & AT&T\'s "special" text' in article


async def test_long_answers_and_articles_are_split(fake_tg: FakeTelegram, archive: Archive) -> None:
    question = "glacier survey ice thickness at the northern ridge station"
    expected = tg.answer_parts(archive.ask(question, k=3))
    assert len(expected) >= 2  # the quotes are too long for one message
    async with running_bot(fake_tg, archive, k=3):
        await fake_tg.send_text(question, chat_id=51)
        calls = await fake_tg.wait_sent(51, len(expected))
        assert [c.params["text"] for c in calls] == expected  # in order
        texts = _visible(calls)  # every part ≤ 4096 and valid HTML
        assert "Polar Notes" in texts[-1]
        assert _buttons(calls[-1]) and not any(_buttons(c) for c in calls[:-1])  # buttons on the last part

        label, button = next((lb, d) for lb, d in _buttons(calls[-1]) if "Polar Notes" in lb)
        article = next(a for a in archive.articles() if a.source == "Polar Notes")
        number = int(button.rsplit(":", 1)[1])
        assert f"[{number}]" in label
        article_parts = tg.article_parts(article, number)
        assert len(article_parts) >= 3
        await fake_tg.press(_as_message(calls[-1]), button, user_id=51)
        sent = await fake_tg.wait_sent(51, len(expected) + len(article_parts))
        parts = _visible(sent[len(expected) :])
        sent_text = " ".join(" ".join(parts).split())
        assert sent_text.count("glacier survey") == article.text.count("glacier survey")
        assert " ".join(article.text.split()) in sent_text  # the whole text, in order


# --------------------------------------------------------------------------- groups, inline


async def test_groups_answer_only_when_addressed(fake_tg: FakeTelegram, archive: Archive) -> None:
    group = -100_777
    async with running_bot(fake_tg, archive):
        await fake_tg.send_text(QUESTION, chat_id=group, user_id=61, chat_type="supergroup")
        await fake_tg.send_text(
            "/ask@some_other_bot " + QUESTION, chat_id=group, user_id=61, chat_type="supergroup"
        )
        mention = await fake_tg.send_text(
            f"@{BOT_USERNAME} {QUESTION}", chat_id=group, user_id=61, chat_type="supergroup"
        )
        (answer,) = await fake_tg.wait_sent(group)
        assert answer.params["reply_parameters"]["message_id"] == mention["message_id"]
        assert "RASC News Agency" in _visible([answer])[0]

        reply = await fake_tg.send_text(
            "and who spoke there?", chat_id=group, user_id=62, chat_type="supergroup", reply_to=answer.result
        )
        second = (await fake_tg.wait_sent(group, 2))[1]
        assert second.params["reply_parameters"]["message_id"] == reply["message_id"]

        asked = await fake_tg.send_text(f"/ask {QUESTION}", chat_id=group, user_id=63, chat_type="supergroup")
        third = (await fake_tg.wait_sent(group, 3))[2]
        assert third.params["reply_parameters"]["message_id"] == asked["message_id"]

        await fake_tg.send_text(f"/help@{BOT_USERNAME}", chat_id=group, user_id=63, chat_type="supergroup")
        await fake_tg.wait_sent(group, 4)
        await asyncio.sleep(0.5)
        assert len(fake_tg.sent(group)) == 4  # the unaddressed message and /ask@some_other_bot: silence


async def test_mention_without_a_question_and_other_mentions(fake_tg: FakeTelegram, archive: Archive) -> None:
    group = -100_778
    async with running_bot(fake_tg, archive):
        await fake_tg.send_text("@somebody_else where was it?", chat_id=group, user_id=64, chat_type="group")
        await fake_tg.send_text(f"@{BOT_USERNAME}", chat_id=group, user_id=64, chat_type="group")
        (call,) = await fake_tg.wait_sent(group)
        assert "Please type a question" in _visible([call])[0]
        await asyncio.sleep(0.3)
        assert len(fake_tg.sent(group)) == 1


async def test_inline_mode_returns_top_quotes(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive):
        await fake_tg.inline(QUESTION, user_id=71)
        (call,) = await fake_tg.wait_called("answerInlineQuery")
        results = call.params["results"]
        assert 1 <= len(results) <= 5
        assert call.params.get("is_personal") in (None, "false", False)
        messages = [r["input_message_content"]["message_text"] for r in results]
        for r, m in zip(results, messages, strict=True):
            assert r["type"] == "article" and r["description"]
            assert r["input_message_content"]["parse_mode"] == "HTML"
            assert "<blockquote>" in m and utf16_len(m) <= 4096
            assert visible_text(m).startswith("❓ " + QUESTION)
        assert any("RASC News Agency" in r["title"] for r in results)

        await fake_tg.inline("   ", user_id=71)
        empty = (await fake_tg.wait_called("answerInlineQuery", 2))[1]
        assert empty.params["results"] == [] and "button" in empty.params


# --------------------------------------------------------------------------- access, limits


async def test_allow_list_refuses_others_politely(fake_tg: FakeTelegram, archive: Archive) -> None:
    allowed_user, allowed_group, stranger = 81, -100_881, 82
    async with running_bot(fake_tg, archive, allowed_ids=frozenset({allowed_user, allowed_group})):
        await fake_tg.send_text(QUESTION, chat_id=stranger)
        (refusal,) = await fake_tg.wait_sent(stranger)
        text = _visible([refusal])[0]
        assert text.startswith("Sorry") and str(stranger) in text
        assert "RASC" not in text and "Baku" not in text

        await fake_tg.send_text(QUESTION, chat_id=allowed_user)
        assert "RASC News Agency" in _visible(await fake_tg.wait_sent(allowed_user))[0]

        # Anyone in an allowed group may ask; a stranger's group stays silent unless addressed.
        await fake_tg.send_text(
            f"/ask {QUESTION}", chat_id=allowed_group, user_id=stranger, chat_type="group"
        )
        assert "RASC News Agency" in _visible(await fake_tg.wait_sent(allowed_group))[0]
        await fake_tg.send_text(QUESTION, chat_id=-100_882, user_id=stranger, chat_type="group")
        await fake_tg.send_text(f"/ask {QUESTION}", chat_id=-100_883, user_id=stranger, chat_type="group")
        assert _visible(await fake_tg.wait_sent(-100_883))[0].startswith("Sorry")

        await fake_tg.inline(QUESTION, user_id=stranger)
        (inline,) = await fake_tg.wait_called("answerInlineQuery")
        assert inline.params["results"] == [] and inline.params["is_personal"] in ("true", True)

        await fake_tg.press(_as_message(refusal), "more:1", user_id=stranger)
        (cb,) = await fake_tg.wait_called("answerCallbackQuery")
        assert "private" in cb.params["text"]

        await fake_tg.inline(QUESTION, user_id=allowed_user)
        ok = (await fake_tg.wait_called("answerInlineQuery", 2))[1]
        assert ok.params["results"] and ok.params["is_personal"] in ("true", True)  # no shared cache
        assert fake_tg.sent(-100_882) == []


async def test_an_insisting_stranger_is_refused_once_per_budget(
    fake_tg: FakeTelegram, archive: Archive
) -> None:
    async with running_bot(fake_tg, archive, allowed_ids=frozenset({1}), rate_calls=1):
        for n in range(3):
            await fake_tg.send_text(f"{QUESTION} {n}", chat_id=83)
        await fake_tg.send_text("/help", chat_id=84)  # a sync point: later than the three above
        await fake_tg.wait_sent(84)
        await asyncio.sleep(0.2)
        assert len(fake_tg.sent(83)) == 1 and _visible(fake_tg.sent(83))[0].startswith("Sorry")


async def test_rate_limit_says_slow_down(fake_tg: FakeTelegram, archive: Archive) -> None:
    # one quote an answer: each answer is one message (the archive has a quote longer than one)
    async with running_bot(fake_tg, archive, rate_calls=2, rate_seconds=60.0, k=1):
        for n in range(3):
            await fake_tg.send_text(f"{QUESTION} ({n})", chat_id=91)
            await fake_tg.wait_sent(91, n + 1)
        texts = _visible(fake_tg.sent(91))
        assert "RASC" in texts[0] and "RASC" in texts[1]
        assert texts[2].startswith("Slow down") and "2 questions per 60 seconds" in texts[2]
        assert "RASC" not in texts[2]
        await fake_tg.send_text(QUESTION, chat_id=92)  # other users are not affected
        assert "RASC" in _visible(await fake_tg.wait_sent(92))[0]


async def test_every_question_path_shares_one_budget_and_a_usage_hint_spends_none(
    fake_tg: FakeTelegram, archive: Archive
) -> None:
    async with running_bot(fake_tg, archive, rate_calls=1, rate_seconds=60.0, k=1):
        await fake_tg.send_text(QUESTION, chat_id=95)
        (answer,) = await fake_tg.wait_sent(95)
        for n, command in enumerate(("/latest", "/latest Baku conference", "/more", QUESTION), 2):
            await fake_tg.send_text(command, chat_id=95)
            await fake_tg.wait_sent(95, n)
        texts = _visible(fake_tg.sent(95))
        assert "RASC" in texts[0] and texts[1].startswith("Usage: /latest")
        assert all(t.startswith("Slow down") and "1 questions per 60 seconds" in t for t in texts[2:])
        for n, data in enumerate(("more:1", "art:1:1"), 1):
            await fake_tg.press(_as_message(answer), data, user_id=95)
            await fake_tg.wait_called("answerCallbackQuery", n)
        for alert in fake_tg.called("answerCallbackQuery"):
            assert alert.params["text"].startswith("Slow down") and alert.params["show_alert"] in (
                True,
                "true",
            )
        assert len(fake_tg.sent(95)) == 5  # no article, no more results
        for n in range(4):  # inline queries have a budget of their own: three times as large
            await fake_tg.inline(QUESTION, user_id=95)
            await fake_tg.wait_called("answerInlineQuery", n + 1)
        answered = fake_tg.called("answerInlineQuery")
        assert all(a.params["results"] for a in answered[:3]) and answered[3].params["results"] == []
        assert answered[3].params["button"]["text"] == "Slow down a little…"


async def test_a_429_is_waited_out_and_the_message_arrives(fake_tg: FakeTelegram, archive: Archive) -> None:
    async with running_bot(fake_tg, archive):
        fake_tg.fail_next("sendMessage", code=429, retry_after=1)
        await fake_tg.send_text(QUESTION, chat_id=101)
        (call,) = await fake_tg.wait_sent(101)
        attempts = [c for c in fake_tg.calls if c.method == "sendMessage"]
        assert [c.status for c in attempts] == [429, 200]
        assert attempts[0].params["text"] == call.params["text"]
        assert attempts[1].at - attempts[0].at >= 1.0  # waited retry_after
        assert "RASC News Agency" in _visible([call])[0]


async def test_a_failing_question_is_logged_and_apologised_for(
    fake_tg: FakeTelegram, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    class Flaky:
        def __init__(self, inner: Archive) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def ask(self, question: str, k: int = 5, **kw: Any) -> Any:
            if "explode" in question:
                raise RuntimeError("the index caught fire")
            return self.inner.ask(question, k, **kw)

    caplog.set_level(logging.INFO)
    async with running_bot(fake_tg, Flaky(archive)):
        await fake_tg.send_text("please explode", chat_id=111)
        (apology,) = await fake_tg.wait_sent(111)
        assert _visible([apology])[0] == APOLOGY
        await fake_tg.send_text(QUESTION, chat_id=111)  # still running
        assert "RASC" in _visible(await fake_tg.wait_sent(111, 2))[1]
    failed = [r for r in caplog.records if r.name == "newsbot.telegram" and r.exc_info]
    assert failed and "the index caught fire" in str(failed[0].exc_info[1])
    assert "Traceback" in caplog.text


async def test_the_token_never_reaches_the_logs(
    fake_tg: FakeTelegram, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(fake_tg, archive):
        await fake_tg.send_text(QUESTION, chat_id=121)
        await fake_tg.wait_sent(121)
    assert caplog.records  # PTB did log at DEBUG
    assert fake_tg.token not in caplog.text
    assert fake_tg.token.split(":")[1] not in caplog.text

    # And the redactor strips it from messages and tracebacks that would carry it.
    redactor = TokenRedactor(fake_tg.token)
    try:
        raise ValueError(f"bad url https://api.telegram.org/bot{fake_tg.token}/getMe")
    except ValueError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, "f", 1, "calling %s", (fake_tg.token,), (type(exc), exc, exc.__traceback__)
        )
    redactor.filter(record)
    formatted = logging.Formatter().format(record)
    assert fake_tg.token not in formatted and "<token>" in formatted


# --------------------------------------------------------------------------- webhook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_checks_the_secret(fake_tg: FakeTelegram, archive: Archive) -> None:
    from bot.config import TelegramSettings
    from bot.telegram.app import build_application

    app = build_application(TelegramSettings(token=fake_tg.token, api_url=fake_tg.base_url), archive)
    port = _free_port()
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="tg-hook",
        webhook_url="https://bot.example.org/tg-hook",
        secret_token="s3cret-value",
        allowed_updates=ALLOWED_UPDATES,
    )
    await app.start()
    try:
        (hook,) = fake_tg.called("setWebhook")
        assert hook.params["url"] == "https://bot.example.org/tg-hook"
        assert hook.params["secret_token"] == "s3cret-value"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": fake_tg.chat(131),
                "from": fake_tg.user(131),
                "text": QUESTION,
            },
        }
        url = f"http://127.0.0.1:{port}/tg-hook"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 403
            async with http.post(url, json=update) as r:
                assert r.status == 403
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            ) as r:
                assert r.status == 200
        (call,) = await fake_tg.wait_sent(131)
        assert "RASC News Agency" in _visible([call])[0]
        await asyncio.sleep(0.2)
        assert len(fake_tg.sent(131)) == 1  # the two refused posts were not processed
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def test_example_questions_are_never_built_from_codes() -> None:
    from types import SimpleNamespace

    from bot.telegram.context import example_questions

    titles = ["C1 CSI update", "C1 CSI again", "NATO EU talks", "NATO EU deal", "Harbour Board meets"]
    articles = [SimpleNamespace(title=t, source="Gazette", published="2024-05-01") for t in titles]
    archive = SimpleNamespace(articles=lambda: articles)
    assert example_questions(archive) == ["What do the articles say about Harbour Board?"]  # type: ignore[arg-type]
