"""Fixtures for the Telegram tests: a fake Bot API server and the real bot running against it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import TelegramSettings
from bot.telegram.app import ALLOWED_UPDATES, build_application
from retrieval.archive import Archive
from retrieval.embedding import HashingEmbedder
from retrieval.ingest.indexer import refresh
from tests.bot.fake_telegram import FakeTelegram
from tests.conftest import SEEDS, write

# A sentence far longer than a Telegram message: one quote of it must be split.
LONG_SENTENCE = " ".join(
    f"the glacier survey team measured ice thickness at station {n} near the northern ridge"
    for n in range(120)
)

EXTRA_ARTICLES = {
    "markup.md": """---
title: Escaping <tags> & AT&T's "special" text
source: Tag & Bracket Weekly
published: 2023-04-02
url: https://example.org/markup?a=1&b=2
---
The committee said <script>alert(1)</script> was found in the AT&T filing about x < y and y > z.
Its members wrote *stars*, _underscores_, `backticks`, @someone, #hashtag and /start in the report.
A <b>fake bold</b> tag and &amp; an entity were printed verbatim in the committee filing.
""",
    "harbour.md": """---
title: Harbour reopens after storm
source: Coastal Gazette
published: 2023-05-20
url: https://example.org/harbour
---
The harbour in Port Marlow reopened on Friday after the storm damaged two piers.
Fishermen said the repairs cost 2 million dollars and took three weeks.
The mayor of Port Marlow thanked the volunteers who cleared the debris.
""",
    "glacier.md": f"""---
title: Glacier survey
source: Polar Notes
published: 2023-03-01
---
{LONG_SENTENCE}.
A second {LONG_SENTENCE}.
A third {LONG_SENTENCE}.
""",
}


def build_index(tmp: Path, extra: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Articles (seeds + extras) and their index made with the fake embedder: (articles, index)."""
    articles = tmp / "articles"
    shutil.copytree(SEEDS, articles / "seeds")
    for name, text in (EXTRA_ARTICLES if extra is None else extra).items():
        write(articles / name, text)
    index = tmp / "index"
    refresh(index, [articles], HashingEmbedder(256))
    return articles, index


@pytest.fixture(scope="module")
def bot_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_index(tmp_path_factory.mktemp("botindex"))


@pytest.fixture(scope="module")
def archive(bot_index: tuple[Path, Path]) -> Archive:
    return Archive.open(bot_index[1], HashingEmbedder(256))


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def running_bot(fake: FakeTelegram, archive: Any, **settings: Any) -> AsyncIterator[Any]:
    """The real PTB Application, long polling the fake server; shut down cleanly after."""
    options: dict[str, Any] = {"token": fake.token, "api_url": fake.base_url, **settings}
    app = build_application(TelegramSettings(**options), archive)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=2, allowed_updates=ALLOWED_UPDATES)
    await app.start()
    try:
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:  # as run_polling does
            await app.post_shutdown(app)
