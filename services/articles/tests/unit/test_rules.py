"""Slugs, tags and ownership: the pure rules."""
import itertools

import pytest

from conduit_common.errors import Forbidden

from conduit_articles import rules


@pytest.mark.parametrize("title, slug", [
    ("How to train your dragon", "how-to-train-your-dragon"),
    ("  Hello,   World!!  ", "hello-world"),
    ("Crème brûlée à la française", "creme-brulee-a-la-francaise"),
    ("C++ & Rust: 2024", "c-rust-2024"),
    ("!!!", "article"),
    ("日本語", "article"),
])
def test_slug_is_the_lowercase_ascii_title_joined_by_dashes(title, slug):
    assert rules.slugify(title) == slug


def test_slug_of_a_very_long_title_is_cut_without_a_trailing_dash():
    slug = rules.slugify("word " * 100)
    assert len(slug) <= rules.MAX_SLUG_BASE_LENGTH
    assert not slug.endswith("-")


def test_first_slug_candidate_is_plain_then_suffixed():
    suffixes = (f"s{n}" for n in itertools.count())
    candidates = list(rules.slug_candidates("My Title", lambda: next(suffixes), attempts=3))
    assert candidates == ["my-title", "my-title-s0", "my-title-s1"]


def test_reserved_slug_feed_is_never_offered_plain():
    candidates = list(rules.slug_candidates("Feed", lambda: "abc123", attempts=2))
    assert candidates == ["feed-abc123"]


def test_random_suffix_is_short_lowercase_alphanumeric_and_varies():
    suffixes = {rules.random_suffix() for _ in range(50)}
    assert len(suffixes) > 45
    assert all(len(s) == rules.SUFFIX_LENGTH and s.isalnum() and s == s.lower()
               for s in suffixes)


def test_tags_are_deduplicated_trimmed_and_sorted():
    assert rules.normalize_tags(["training", "dragons", " dragons ", "", "  "]) == [
        "dragons", "training"]


def test_missing_tag_list_means_no_tags():
    assert rules.normalize_tags(None) == []


def test_owner_passes_the_author_check():
    rules.ensure_author(7, 7, "nope")


def test_someone_else_is_forbidden():
    with pytest.raises(Forbidden, match="nope"):
        rules.ensure_author(7, 8, "nope")
