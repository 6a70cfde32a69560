"""The composer's sentence-vector cache: embeds each text once, keeps order, stays bounded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from retrieval.embedding import HashingEmbedder
from retrieval.search.vector_cache import VectorCache


class Counting:
    def __init__(self) -> None:
        self.model = HashingEmbedder(32)
        self.embedded: list[str] = []

    def __call__(self, texts):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return self.model.embed(texts)


def test_rows_follow_the_input_and_only_unseen_texts_are_embedded() -> None:
    embed = Counting()
    cache = VectorCache(embed)
    first = cache.vectors(["a cat", "a dog", "a cat"])
    np.testing.assert_allclose(first, embed.model.embed(["a cat", "a dog", "a cat"]), atol=1e-6)
    assert embed.embedded == ["a cat", "a dog"]
    again = cache.vectors(["a dog", "a bird"])
    np.testing.assert_allclose(again, embed.model.embed(["a dog", "a bird"]), atol=1e-6)
    assert embed.embedded == ["a cat", "a dog", "a bird"]


def test_the_least_recently_used_text_leaves_first() -> None:
    embed = Counting()
    cache = VectorCache(embed, size=2)
    cache.vectors(["one", "two"])
    cache.vectors(["one"])  # "two" is now the oldest
    cache.vectors(["three"])
    assert len(cache) == 2
    cache.vectors(["one", "two"])
    assert embed.embedded == ["one", "two", "three", "two"]


def test_no_texts_gives_no_rows() -> None:
    assert VectorCache(Counting()).vectors([]).shape == (0, 32)


def test_concurrent_readers_get_their_own_rows() -> None:
    embed = Counting()
    cache = VectorCache(embed, size=50)
    texts = [f"sentence {n}" for n in range(200)]

    def read(n: int) -> bool:
        chunk = texts[n % 190 : n % 190 + 10]
        return bool(np.allclose(cache.vectors(chunk), embed.model.embed(chunk), atol=1e-6))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read, range(400)))
    assert len(cache) <= 50
