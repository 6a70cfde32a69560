"""Fixtures of the tests that fetch over HTTP: a feed server on 127.0.0.1, and the record
of every connection attempt (none may leave 127.0.0.1). A module opts in with
``pytestmark = pytest.mark.usefixtures("connections")``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.feed_server import FeedServer, loopback_only


@pytest.fixture
def connections() -> Iterator[list[object]]:
    """No connection but to 127.0.0.1; the attempts are recorded."""
    with loopback_only() as attempts:
        yield attempts


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv
