"""Near-duplicate story groups: wire copies group, different stories and boilerplate do not."""

from __future__ import annotations

import inspect
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.store.near_duplicates import (
    DuplicateParams,
    StoryGroups,
    estimated_jaccard,
    group_articles,
    is_empty,
    shingle_hashes,
    signature,
)

ROOT = Path(__file__).resolve().parents[2]
DEV_ARTICLES = ROOT.parent / "shared" / "eval" / "realtimeqa-dev" / "articles.jsonl"

_SYLLABLES = "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu".split()
VOCAB = sorted({a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "n", "s")})
FOOTER = (
    "Sign up for our newsletter to get the day's top stories delivered to your inbox every morning. "
    "Follow us on social media and download the app for breaking news alerts. "
    "Copyright 2024 The Daily Example. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed. Have a news tip? Email the newsroom or call our tip line any time, day or night."
)


def sentences(seed: int, n_words: int, vocab: list[str] = VOCAB) -> list[str]:
    rng = random.Random(seed)
    out, total = [], 0
    while total < n_words:
        k = rng.randint(12, 22)
        words = [rng.choice(vocab) for _ in range(k)]
        out.append(" ".join(words).capitalize() + ".")
        total += k
    return out


def article(seed: int, n_words: int = 300) -> str:
    body = sentences(seed, n_words)
    paragraphs = [" ".join(body[i : i + 3]) for i in range(0, len(body), 3)]
    return f"Headline number {seed} about the thing\n\n" + "\n\n".join(paragraphs)


def wire_copies(text: str) -> list[str]:
    """The edits local outlets make to a wire story."""
    head, _, body = text.partition("\n\n")
    parts = body.split(". ")
    dropped = ". ".join(parts[:5] + parts[6:])
    return [
        "A different local headline for readers here\n\n" + body,
        head + "\n\nWASHINGTON (AP) — " + body,
        head + "\n\n" + dropped,
        text + "\n\n" + FOOTER,
        "Local headline\n\nWASHINGTON (AP) — " + dropped + "\n\n" + FOOTER,
    ]


def partition(groups: StoryGroups) -> set[frozenset[str]]:
    return {frozenset(m) for m in groups.groups().values()}


def test_signature_is_datasketch_affine32_minhash_of_the_shingles() -> None:
    datasketch = pytest.importorskip("datasketch")
    if "scheme" not in inspect.signature(datasketch.MinHash).parameters:
        pytest.skip("datasketch before 2.0 has no affine32 scheme")
    text = article(1)
    m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=lambda h: h, scheme="affine32")
    m.update_batch(shingle_hashes(text).tolist())
    sig = signature(text)
    assert sig.dtype == np.uint32 and sig.shape == (128,)
    assert np.array_equal(sig, m.hashvalues)


def test_normalisation_ignores_case_and_punctuation_but_keeps_numbers() -> None:
    a = "The Senate voted 52-48 on Tuesday, officials said. " * 10
    b = "the senate VOTED 52 48 on tuesday officials said " * 10
    c = "The Senate voted 53-47 on Tuesday, officials said. " * 10
    assert np.array_equal(shingle_hashes(a), shingle_hashes(b))
    assert not np.array_equal(shingle_hashes(a), shingle_hashes(c))


def test_wire_copies_with_small_edits_join_the_original() -> None:
    original = article(7)
    groups = StoryGroups()
    assert groups.add("ap-original", original) == "ap-original"
    for i, copy in enumerate(wire_copies(original)):
        assert estimated_jaccard(signature(original), signature(copy)) >= 0.6
        assert groups.add(f"local-{i}", copy) == "ap-original"
    assert groups.members("ap-original") == ("ap-original", *(f"local-{i}" for i in range(5)))
    assert groups.groups() == {"ap-original": groups.members("ap-original")}


def test_different_stories_on_one_topic_do_not_group() -> None:
    topic = VOCAB[:300]  # one topic's narrow vocabulary, and one quoted statement in both
    quote = " ".join(sentences(99, 40, topic))
    stories = [" ".join(sentences(seed, 300, topic)) + " " + quote for seed in range(6)]
    assert group_articles((f"s{i}", s) for i, s in enumerate(stories)) == {f"s{i}": f"s{i}" for i in range(6)}


def test_short_texts_never_group() -> None:
    short = " ".join(sentences(3, 30))
    assert is_empty(signature(short))
    groups = StoryGroups()
    groups.add("a", short)
    assert groups.add("b", short) == "b"
    assert groups.groups() == {}
    long_enough = " ".join(sentences(3, 60))
    assert group_articles([("a", long_enough), ("b", long_enough)]) == {"a": "a", "b": "a"}


def test_boilerplate_shared_by_unrelated_pages_does_not_group_them() -> None:
    # one outlet: short briefs whose footer outweighs them, long stories with the same footer
    footer = " ".join(sentences(500, 200))
    briefs = {f"brief-{i}": " ".join(sentences(100 + i, 50)) + "\n\n" + footer for i in range(8)}
    stories = {f"story-{i}": " ".join(sentences(200 + i, 400)) + "\n\n" + footer for i in range(20)}
    items = list(stories.items()) + list(briefs.items())
    brief_sigs = [signature(t) for t in briefs.values()]
    assert estimated_jaccard(brief_sigs[0], brief_sigs[1]) >= 0.6  # by Jaccard alone they would group
    assert group_articles(items) == {k: k for k, _ in items}
    unguarded = DuplicateParams(template_sharers=10**9)
    assert len(set(group_articles(items, unguarded).values())) < len(items)
    # a real copy of a page carrying the footer still joins it
    page = " ".join(sentences(300, 150)) + "\n\n" + footer
    copy = "UPDATED\n\n" + page.replace(".", ",", 3)
    groups = StoryGroups()
    groups.add_many([*items, ("page", page)])
    assert groups.add("copy", copy) == "page"


def test_group_ids_stay_stable_and_remove_splits_chains() -> None:
    words = " ".join(sentences(11, 420)).split()
    a, b, c = (" ".join(words[i : i + 300]) for i in (0, 50, 100))  # a~b, b~c, a!~c
    assert estimated_jaccard(signature(a), signature(c)) < 0.6
    groups = StoryGroups()
    assert groups.add("a", a) == "a"
    assert groups.add("c", c) == "c"
    assert groups.add("b", b) == "a"  # b bridges: single-link, the earliest member's id wins
    assert groups.members("a") == ("a", "c", "b")
    assert groups.group_of("c") == "a"
    other = article(12)
    groups.add("x", other)
    assert groups.add("y", wire_copies(other)[0]) == "x"
    assert groups.group_of("a") == "a"  # unchanged by other arrivals
    groups.remove("b")
    assert groups.group_of("a") == "a" and groups.group_of("c") == "c"
    assert groups.groups() == {"x": ("x", "y")}
    groups.remove("x")
    assert groups.group_of("y") == "y" and groups.groups() == {}
    assert "x" not in groups and len(groups) == 3


def test_removing_the_first_member_hands_the_group_to_the_next() -> None:
    original = article(21)
    groups = StoryGroups()
    groups.add_many([("first", original)] + [(f"copy-{i}", c) for i, c in enumerate(wire_copies(original))])
    groups.remove("first")
    assert groups.groups() == {"copy-0": tuple(f"copy-{i}" for i in range(5))}
    with pytest.raises(KeyError):
        groups.members("copy-1")  # a member, not a group id


def test_adding_an_id_again_replaces_the_article() -> None:
    original = article(31)
    groups = StoryGroups()
    groups.add("a", original)
    groups.add("b", wire_copies(original)[1])
    assert groups.group_of("b") == "a"
    groups.add("b", article(32))
    assert groups.groups() == {} and len(groups) == 2
    groups.add_many([("c", article(33)), ("c", wire_copies(original)[2])])  # the last one wins
    assert groups.groups() == {"a": ("a", "c")} and len(groups) == 3


def test_round_trip_through_savez_without_pickle() -> None:
    groups = StoryGroups(DuplicateParams(threshold=0.65))
    for seed in (41, 42):
        text = article(seed)
        groups.add(f"o{seed}", text)
        for i, copy in enumerate(wire_copies(text)[:3]):
            groups.add(f"c{seed}-{i}", signature=signature(copy, groups.params))
    groups.add("short", "too short to group")
    buf = io.BytesIO()
    np.savez(buf, **groups.to_arrays())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as arrays:
        back = StoryGroups.from_arrays(arrays)
    assert back.params == groups.params
    assert back.groups() == groups.groups()
    assert len(back) == len(groups)
    assert np.array_equal(back.signature_of("c41-0"), groups.signature_of("c41-0"))
    assert back.add("late-copy", wire_copies(article(42))[4]) == "o42"  # the LSH index came back too


def test_grouping_does_not_depend_on_arrival_order() -> None:
    items = []
    for seed in (51, 52, 53):
        text = article(seed)
        items += [(f"o{seed}", text)] + [(f"c{seed}-{i}", c) for i, c in enumerate(wire_copies(text))]
    items += [(f"lone{seed}", article(seed)) for seed in (54, 55)]
    expected = None
    for shuffle_seed in range(4):
        order = items[:]
        random.Random(shuffle_seed).shuffle(order)
        batch, one_by_one = StoryGroups(), StoryGroups()
        batch.add_many(order)
        for article_id, text in order:
            one_by_one.add(article_id, text)
        expected = expected or partition(batch)
        assert partition(batch) == partition(one_by_one) == expected
    assert expected == {frozenset([f"o{s}", *(f"c{s}-{i}" for i in range(5))]) for s in (51, 52, 53)}


def test_bad_input_is_refused() -> None:
    groups = StoryGroups()
    with pytest.raises(ValueError):
        groups.add("a")
    with pytest.raises(ValueError):
        groups.add("a", "text", signature=np.zeros(128, dtype=np.uint32))
    with pytest.raises(ValueError, match="128 values"):
        groups.add("a", signature=np.zeros(64, dtype=np.uint32))
    with pytest.raises(ValueError):
        DuplicateParams(threshold=0.0)


def test_importing_the_module_leaves_datasketch_and_scipy_unloaded() -> None:
    code = "import sys, retrieval.store.near_duplicates; print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(not DEV_ARTICLES.exists(), reason="needs ../shared/eval/realtimeqa-dev")
def test_dev_set_groups_only_copies() -> None:
    with open(DEV_ARTICLES, encoding="utf-8") as fh:
        arts = [json.loads(line) for line in fh if line.strip()]
    by_id = {a["id"]: a for a in arts}
    groups = StoryGroups()
    groups.add_many((a["id"], a["text"]) for a in arts)
    found = groups.groups()
    assert 1 <= len(found) <= 10
    assert sum(len(m) for m in found.values()) < 0.05 * len(arts)
    for members in found.values():  # every pair in a group shares most of its text
        sigs = [groups.signature_of(m) for m in members]
        assert all(estimated_jaccard(sigs[0], s) >= 0.4 for s in sigs[1:]), [
            by_id[m]["title"] for m in members
        ]
