"""Load: 200 questions from 50 chats at once, over real HTTP; all answered, each to its chat."""

from __future__ import annotations

import time
from collections import Counter

from bot import render_telegram as tg
from retrieval.archive import Archive
from tests.bot.conftest import running_bot
from tests.bot.fake_telegram import FakeTelegram

CHATS = 50
PER_CHAT = 4
# Long enough (> 7 words) that no question is treated as a follow-up of the previous one.
TEMPLATES = [
    "Where was the international conference on Afghanistan security held in {n}?",
    "What did the chief of the State Security Service say about Afghanistan {n}?",
    "How much did the repairs of the harbour piers in Port Marlow cost {n}?",
    "What did the committee find in the filing about the AT&T report {n}?",
    "Who thanked the volunteers who cleared the debris after the storm {n}?",
    "How thick was the ice measured by the glacier survey team at station {n}?",
]


def _question(chat: int, i: int) -> str:
    return TEMPLATES[(chat + i) % len(TEMPLATES)].format(n=chat * 10 + i)


async def test_200_questions_from_50_chats(fake_tg: FakeTelegram, archive: Archive) -> None:
    chats = [1000 + c for c in range(CHATS)]
    expected: dict[int, Counter[str]] = {}
    for chat in chats:
        wanted: Counter[str] = Counter()
        for i in range(PER_CHAT):
            answer = archive.ask(_question(chat, i), k=3)
            wanted.update(tg.answer_parts(answer))
        expected[chat] = wanted
    total_parts = sum(sum(c.values()) for c in expected.values())

    async with running_bot(fake_tg, archive):
        started = time.perf_counter()
        await fake_tg.queue(
            *(
                {
                    "message": {
                        "message_id": 10_000 + chat * 10 + i,
                        "date": 0,
                        "chat": fake_tg.chat(chat),
                        "from": fake_tg.user(chat),
                        "text": _question(chat, i),
                    }
                }
                for i in range(PER_CHAT)
                for chat in chats
            )
        )
        await fake_tg.wait_for(lambda: len(fake_tg.sent()) >= total_parts, timeout=120)
        seconds = time.perf_counter() - started

    got = {chat: Counter(fake_tg.texts(chat)) for chat in chats}
    assert got == expected  # every answer, in the chat that asked, none lost or duplicated
    assert len(fake_tg.sent()) == total_parts
    actions = len(fake_tg.called("sendChatAction"))
    print(
        f"\nload: {CHATS * PER_CHAT} questions from {CHATS} chats answered in {seconds:.2f} s "
        f"({CHATS * PER_CHAT / seconds:.1f} questions/s; {total_parts} messages, "
        f"{actions} typing actions; outgoing flood limit 30 messages/s)"
    )
