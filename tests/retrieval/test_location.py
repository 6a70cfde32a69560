"""One Location, parsed once: a folder or a PostgreSQL URL, and what lives beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config
from retrieval.live.subscriptions import open_subscriptions
from retrieval.store import Location, open_store
from retrieval.store.faiss import FaissStore

URL = "postgresql://bot:s3cret@db.example.org:5432/news"


def test_a_folder_and_a_url_parse_once_and_show_without_the_password(tmp_path: Path) -> None:
    folder = Location.of(tmp_path / "index")
    assert (folder.folder, folder.url, folder.is_database) == (tmp_path / "index", None, False)
    assert folder.shown == str(tmp_path / "index") and Location.of(folder) is folder

    db = Location.of(URL)
    assert (db.folder, db.url, db.is_database) == (None, URL, True)
    assert db.shown == str(db) == "postgresql://bot:***@db.example.org:5432/news"
    assert "s3cret" not in repr(db)
    assert Location.of("postgres://x/y").is_database and not Location.of("mysql://x/y").is_database
    with pytest.raises(ValueError):
        Location()
    with pytest.raises(ValueError):
        Location(url="http://x/y")


def test_feed_state_and_subscriptions_live_beside_the_folder_or_in_the_cache(tmp_path: Path) -> None:
    folder = Location(folder=tmp_path / "index")
    assert folder.feeds_dir(tmp_path / "cache") == tmp_path / "index" / "feeds"
    assert folder.subscriptions_file == tmp_path / "index" / "alerts.sqlite"

    db = Location(url=URL)
    state = db.feeds_dir(tmp_path / "cache")
    assert state.parent == tmp_path / "cache" / "feeds" and len(state.name) == 12
    assert db.feeds_dir(tmp_path / "cache") == state != Location(url=URL + "2").feeds_dir(tmp_path / "cache")
    assert db.subscriptions_file is None


def test_the_settings_give_a_location_and_the_store_and_subscriptions_take_it(tmp_path: Path) -> None:
    where = config.store_location(None, tmp_path / "index")
    assert where == Location(folder=tmp_path / "index")
    assert config.store_location(f" {URL} ", tmp_path) == Location(url=URL)
    with pytest.raises(config.SettingsError, match="postgresql://"):
        config.store_location("/var/index", tmp_path)
    assert config.feeds_dir(where) == tmp_path / "index" / "feeds"
    assert config.feeds_dir(where, tmp_path / "elsewhere") == tmp_path / "elsewhere"

    store = open_store(where)
    assert (
        isinstance(store, FaissStore) and store.where == where and store.location == str(tmp_path / "index")
    )
    subs = open_subscriptions(store.where)
    assert subs.location == str(tmp_path / "index" / "alerts.sqlite")
    subs.close()
