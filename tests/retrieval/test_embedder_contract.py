"""Every embedder keeps the same contract: shape, dtype, unit norm, order, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.embedding import Embedder, ModelError

TEXTS = [
    "The central bank raised interest rates by half a point to fight inflation.",
    "Rain",
    "Storms flooded the coastal town overnight, and hundreds of residents were evacuated "
    "to schools and churches while rescue crews searched the streets by boat.",
    "The striker scored twice as the home team won the cup final.",
    "Voters in the state elect a new governor on Tuesday.",
]


@pytest.fixture(params=["hashing", "torch", "onnx", "e5"])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    name = {
        "hashing": "fake_embedder",
        "torch": "real_embedder",
        "onnx": "onnx_embedder",
        "e5": "e5_embedder",
    }[request.param]
    return request.getfixturevalue(name)


def test_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_deterministic(embedder: Embedder) -> None:
    np.testing.assert_allclose(embedder.embed(TEXTS), embedder.embed(TEXTS), atol=1e-6)


def test_rows_keep_input_order_whatever_the_batching(embedder: Embedder) -> None:
    """Length-sorted batches must not shuffle rows: each row is its own text's vector."""
    together = embedder.embed(TEXTS)
    alone = np.stack([embedder.embed([t])[0] for t in TEXTS])
    # Padding changes a batch's arithmetic slightly (int8 activations most), never
    # which text a row belongs to.
    assert ((together * alone).sum(axis=1) > 0.98).all()
    assert ((together @ alone.T).argmax(axis=1) == np.arange(len(TEXTS))).all()
    reversed_rows = embedder.embed(TEXTS[::-1])[::-1]
    assert ((together * reversed_rows).sum(axis=1) > 0.999).all()


def test_lengths_rank_texts_by_size(embedder: Embedder) -> None:
    """Batches group texts by these lengths (tokens for ONNX), so they must order by size."""
    lengths = embedder.lengths(TEXTS)
    assert len(lengths) == len(TEXTS) and min(lengths) > 0
    assert lengths.index(min(lengths)) == TEXTS.index("Rain")
    assert lengths.index(max(lengths)) == 2  # the storm sentence, the longest


def test_empty_list(embedder: Embedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, embedder.dim)
    assert vectors.dtype == np.float32


def test_similar_texts_are_closer_than_unrelated(embedder: Embedder) -> None:
    a, b, c = embedder.embed(
        [
            "The central bank raised interest rates to fight inflation.",
            "Interest rates were raised by the central bank as inflation climbed.",
            "The striker scored twice in the cup final.",
        ]
    )
    assert a @ b > a @ c + 0.1


def test_query_and_passage_helpers_agree_with_embed(embedder: Embedder) -> None:
    q = embedder.embed_query(TEXTS[0])
    assert q.shape == (embedder.dim,)
    np.testing.assert_allclose(q, embedder.embed([embedder.query_prefix + TEXTS[0]])[0], atol=1e-5)


def test_onnx_agrees_with_torch(real_embedder: Embedder, onnx_embedder: Embedder) -> None:
    """Same model, two runtimes: an index built one way answers queries embedded the other."""
    assert onnx_embedder.name == real_embedder.name
    assert onnx_embedder.dim == real_embedder.dim
    cosines = (onnx_embedder.embed(TEXTS) * real_embedder.embed(TEXTS)).sum(axis=1)
    assert cosines.min() > 0.98, cosines


def test_onnx_export_is_cached(onnx_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> None:
    from retrieval.embedding.onnx import OnnxEmbedder

    assert isinstance(onnx_embedder, OnnxEmbedder)
    cache = onnx_embedder.model_file.parent
    assert [p.name for p in cache.iterdir()] == [onnx_embedder.model_file.name]  # no temporaries left
    again = OnnxEmbedder(onnx_embedder.layout.root, name="x", cache_dir=cache)
    assert again.model_file == onnx_embedder.model_file


def test_onnx_rejects_a_folder_that_is_not_a_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retrieval.embedding.onnx import OnnxEmbedder

    with pytest.raises(ModelError, match="not a sentence-transformers model"):
        OnnxEmbedder(tmp_path, cache_dir=tmp_path / "cache")


def test_onnx_cache_that_cannot_be_written_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retrieval.embedding import resolve_model
    from retrieval.embedding.onnx import OnnxEmbedder

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ModelError, match="cannot write the model cache"):
        OnnxEmbedder(resolve_model(None).path, cache_dir=blocker / "cache")  # type: ignore[arg-type]
