"""The checks an answering model needs: markdown, an assistant's phrases and meta-talk, a
question's own guess taken as evidence, and a reply that runs on past its signature. Each
pinned by one example that fires and one that must not."""

from __future__ import annotations

import pytest

from shawgpt.index.store import Source
from shawgpt.reply.prompts import build_prompt
from shawgpt.safety.content import THRESHOLDS as TH
from shawgpt.safety.content import Embedded, format_reasons, grounding_reasons, role_reasons
from shawgpt.safety.guard import Policy, review
from shawgpt.safety.signature import cut_run_on

ICA = Source("Independent Component Analysis (ICA).pdf", "4", 0.4,
             "After PCA we are left with 21 principal components. The transformed signals, "
             "the principal components, are what we feed into the ICA function.")


@pytest.fixture(scope="module")
def embed(embedder) -> Embedded:
    return Embedded(embedder.embed_texts)


@pytest.mark.parametrize("body", [
    "Good question! Here are the steps:\n1. Run PCA\n2. Run ICA",
    "- Run PCA first\n- then ICA",
    "## The short answer\nYes.",
    "The **principal components** go into ICA.",
    "Call `ica.fit(X)` on the components.",
])
def test_markdown_in_a_plain_text_reply_is_held(body: str) -> None:
    assert format_reasons(body, "How do I apply ICA after PCA?")[0].startswith("formatting:")


def test_plain_replies_and_code_that_was_asked_for_are_fine() -> None:
    assert format_reasons("Yes - run PCA first, then ICA on the 21 components.", "How?") == []
    assert format_reasons("Try `ica.fit(X)`.", "Can you share the code for this?") == []


@pytest.mark.parametrize("body,found", [
    ("Thank you for your thoughtful question! The answer is PCA.", "thoughtful question"),
    ("ICA separates sources. I'm here to help!", "here to help"),
    # a real joke comment, "Mr. Moneybags ova here!", got this as `ok`
    ("Hi Mr. Moneybags! How can I assist you today?", "how can i assist you"),
    ("ICA separates sources. Let me know if you need more.", "let me know if"),
    ("In the context provided, ICA separates sources.", "the context"),
    ("The viewer is asking whether ICA is random.", "the viewer"),
    ("Based on the information given, ICA is random.", "based on the information"),
    ("Shaw suggests using the wavelet transform for EEG.",
     "the creator in the third person ('shaw')"),
])
def test_an_assistants_phrases_and_meta_talk_are_out_of_role(body: str, found: str) -> None:
    reasons = role_reasons(body)
    assert reasons and found in reasons[0].casefold()


@pytest.mark.parametrize("body", [
    "Great question! ICA starts from random weights. Hope that helps!",
    "Thanks for the comment! Glad it was helpful :)",
    "Good question. The short answer is yes.",
])
def test_the_creators_own_phrases_are_in_role(body: str) -> None:
    assert role_reasons(body) == []


def test_the_question_s_own_guess_is_not_evidence_for_the_answer(embed: Embedded) -> None:
    comment = "Did you take the variable loadings of each of the 21 PCs into ICA?"
    guess = "I took the variable loadings of each of the 21 PCs into ICA."
    assert grounding_reasons(guess, comment, [], embed, TH)
    said = "The transformed signals, the principal components, are what we feed into ICA."
    assert grounding_reasons(said, comment, [ICA], embed, TH) == []


def test_what_the_viewer_states_still_supports_a_reply(embed: Embedded) -> None:
    comment = "I ran PCA and got 21 principal components. Now what?"
    assert grounding_reasons("You got 21 principal components from PCA.", comment, [], embed,
                             TH) == []


@pytest.mark.parametrize("raw", [
    "PCA comes first, then ICA. – ShawGPT\nHuman: And what about UMAP?",
    "PCA comes first, then ICA.\n-ShawGPT\n\nUser: thanks",
    "PCA comes first, then ICA.\nHuman: What about UMAP? Answer: UMAP is ...",
])
def test_a_reply_ends_at_its_signature_or_where_it_invents_a_turn(raw: str) -> None:
    assert cut_run_on(raw, "–ShawGPT") == "PCA comes first, then ICA."
    prompt = build_prompt("How do I apply ICA?", [ICA], "chat", "–ShawGPT")
    v = review(raw, "How do I apply ICA?", prompt, [ICA], Policy())
    assert v.reply == "PCA comes first, then ICA.\n–ShawGPT"


def test_a_person_s_edit_is_never_cut() -> None:
    prompt = build_prompt("How?", [], "chat", "–ShawGPT")
    v = review("Line one.\nUser: my own words", "How?", prompt, [], Policy(), edited=True)
    assert "User: my own words" in v.reply


DAG = Source("Causal Discovery.pdf", "2", 0.5,
             "In a DAG a node may have more than one parent. Each edge points from a cause to "
             "its effect, and no path leads back to where it started.")


def test_a_reply_that_flips_its_excerpt_contradicts_it(embed: Embedded) -> None:
    from shawgpt.safety.contradict import contradiction_reasons

    flipped = contradiction_reasons("In a DAG a node may not have more than one parent.",
                                    [DAG], embed)
    assert flipped and flipped[0].startswith("contradicts:") and "a negation" in flipped[0]
    assert contradiction_reasons("In a DAG a node may have more than one parent, and no path "
                                 "leads back to where it started.", [DAG], embed) == []


def test_a_reply_that_parrots_the_comment_does_not_fit() -> None:
    from shawgpt.safety.fit import fit_reasons

    comment = "What PCA data specifically did you put into ICA? Did you take the loadings?"
    echo = "What PCA data specifically did you put into ICA? Did you take the loadings? Yes."
    assert any(r.startswith("does not fit: repeats the comment")
               for r in fit_reasons(echo, comment, False, True))
    assert fit_reasons("The principal components themselves go into ICA.", comment, False,
                       True) == []
