"""With the real packaged model: a question about the seed article, end to end over HTTP."""

from __future__ import annotations

import re

import pytest

from retrieval.archive import Archive
from retrieval.embedding import Embedder
from tests.bot.conftest import running_bot
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.tg_html import visible_text

pytestmark = pytest.mark.model


async def test_seed_question_gets_the_baku_quote_and_its_outlet(
    fake_tg: FakeTelegram, real_seed_index, real_embedder: Embedder
) -> None:
    archive = Archive.open(real_seed_index, embedder=real_embedder)
    async with running_bot(fake_tg, archive):
        await fake_tg.send_text("Where was the international conference on Afghanistan held?", chat_id=7)
        (call,) = await fake_tg.wait_sent(7)
    html_text = call.params["text"]
    text = visible_text(html_text)
    quotes = [visible_text(q) for q in re.findall(r"<blockquote>.*?</blockquote>", html_text, re.S)]
    # the answering sentence comes first, and its outlet is source [1]
    assert "in Baku" in quotes[0], text
    assert "[1] RASC News Agency" in text
