"""Reasoning never lands in `text`: <think> blocks, whole and streamed."""

from __future__ import annotations

import pytest

from modelhub.wrappers.reasoning import ThinkSplitter, split_think


def test_split_think_whole_text() -> None:
    assert split_think("<think> a plan </think>\n\nAnswer") == ("Answer", "a plan")
    assert split_think("No thoughts") == ("No thoughts", None)
    assert split_think("<think>cut off") == ("", "cut off")
    assert split_think(None) == (None, None)
    assert split_think("text <think>later</think>") == ("text <think>later</think>", None)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100])
def test_think_splitter_matches_split_think_for_any_chunking(size: int) -> None:
    full = "  <think>step 1\nstep </2></think>\n The answer </think> is 4"
    splitter = ThinkSplitter()
    text, thought = "", ""
    for i in range(0, len(full), size):
        t, th = splitter.feed(full[i:i + size])
        text, thought = text + t, thought + th
    t, th = splitter.flush()
    text, thought = text + t, thought + th
    expected_text, expected_thought = split_think(full)
    assert text == expected_text
    assert thought.strip() == expected_thought


def test_think_splitter_passes_plain_text_through_immediately() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello") == ("Hello", "")
    assert splitter.feed(" <think>") == (" <think>", "")


def test_think_splitter_holds_a_possible_tag_start_then_releases_it() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<th") == ("", "")
    assert splitter.flush() == ("<th", "")
