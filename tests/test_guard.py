"""The signature rule: every reply ends with '–ShawGPT' exactly once."""

from __future__ import annotations

import pytest

from shawgpt.guard import clean_reply, enforce_signature, trim_unfinished

SIG = "–ShawGPT"


@pytest.mark.parametrize(
    "raw",
    [
        "Glad it helped!",
        "Glad it helped! –ShawGPT",
        "Glad it helped!\n-ShawGPT",
        "Glad it helped! — ShawGPT\n\n–ShawGPT",
        "–ShawGPT Glad it helped!",
        "Glad it helped! - shawgpt.",
    ],
)
def test_signature_exactly_once_at_the_end(raw: str) -> None:
    out = enforce_signature(raw, SIG)
    assert out == "Glad it helped!\n–ShawGPT"
    assert out.count("ShawGPT") == 1


def test_model_artefacts_are_removed_and_empty_output_is_an_error() -> None:
    assert clean_reply("Sure thing.</s>[/INST]", SIG) == ("Sure thing.\n–ShawGPT", "ok")
    assert clean_reply("  –ShawGPT ", SIG) == ("", "error")


def test_a_reply_cut_by_the_token_limit_ends_at_its_last_sentence() -> None:
    assert trim_unfinished("Kurtosis measures tails. It is large when the data") == (
        "Kurtosis measures tails."
    )
    assert trim_unfinished("Thanks!") == "Thanks!"
