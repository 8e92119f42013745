"""The "did you mean" helpers: edit distance (bounded and not) and near misses."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modelhub.config.suggest import edit_distance, misspelling_of

WORDS = st.text(alphabet="ab_c", max_size=9)


def test_edit_distance_counts_each_kind_of_edit_once() -> None:
    assert edit_distance("temperature", "temperature") == 0
    assert edit_distance("temprature", "temperature") == 1  # a deletion
    assert edit_distance("tempreature", "temperature") == 1  # a swap of neighbours
    assert edit_distance("top_q", "top_p") == 1  # a substitution
    assert edit_distance("", "abc") == 3


@settings(max_examples=500, deadline=None)
@given(WORDS, WORDS, st.integers(min_value=0, max_value=3))
def test_a_bounded_distance_is_the_distance_up_to_its_limit(a: str, b: str, limit: int) -> None:
    full = edit_distance(a, b)
    assert full == edit_distance(b, a)
    assert edit_distance(a, b, limit) == min(full, limit + 1)


def test_near_misses_and_far_names() -> None:
    known = frozenset({"temperature", "top_p", "max_tokens", "dimensions"})
    assert misspelling_of("temprature", known) == "temperature"
    assert misspelling_of("Max-Tokens", known) == "max_tokens"
    assert misspelling_of("temperature", known) is None  # exact
    assert misspelling_of("repetition_penalty", known) is None  # far from all
    assert misspelling_of("top", known) is None  # short words: case and dashes only
