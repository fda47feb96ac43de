"""Evidence: each claim of an answer paired with the article sentence it rests on, with the
real embedder; the rules for a creator in the third person, a cut-off answer and a pointer to
what the reply does not show.
"""

from __future__ import annotations

import pytest

from shawgpt.index.store import Source
from shawgpt.reply.prompts import build_prompt
from shawgpt.safety.content import Checks, Embedded, coherence_reasons, role_reasons
from shawgpt.safety.evidence import EvidenceThresholds, evidence_reasons, support
from shawgpt.safety.guard import Policy, review

CHUNK = Source("ICA _ by Shaw Talebi.pdf", "2", 0.6,
               "Independent component analysis separates a mixed signal into its sources. "
               "It assumes the sources are statistically independent. There are three steps: "
               "centering the data, whitening the data and rotating it. Whitening makes the "
               "components uncorrelated with unit variance.")
QUESTION = "What does ICA separate?"


@pytest.fixture(scope="module")
def embed(embedder) -> Embedded:
    return Embedded(embedder.embed_texts)


def test_each_claim_rests_on_its_nearest_article_sentence(embed: Embedded) -> None:
    body = ("ICA separates a mixed signal into its independent sources. Whitening makes the "
            "components uncorrelated.")
    found = support(body, QUESTION, [CHUNK], embed)
    assert [f.sentence for f in found] == [
        "Independent component analysis separates a mixed signal into its sources.",
        "Whitening makes the components uncorrelated with unit variance."]
    assert found[0].similarity > 0.7 and found[0].file == CHUNK.file and found[0].page == "2"
    # the sentence the first claim rests on answers the question; the second does not
    assert found[0].relevance > found[1].relevance
    assert found[0].as_json()["similarity"] == round(found[0].similarity, 3)


def test_a_claim_rests_on_a_sentence_never_on_a_heading(embed: Embedded) -> None:
    # the PDF heading shares the claim's topic words best, and states nothing
    headed = Source("fat-tails.pdf", "1", 0.6,
                    "How to Spot Fat Tails\nYou rarely get told which world your data comes "
                    "from, so here are three checks I use. Kurtosis measures how much of the "
                    "variance comes from extreme deviations.")
    (found,) = support("To spot fat tails, check the kurtosis.", "How do I spot fat tails?",
                       [headed], embed)
    assert found.sentence != "How to Spot Fat Tails"  # the nearest by cosine before
    assert found.sentence.endswith(".")


def test_a_claim_no_sentence_says_and_an_answer_to_another_question(embed: Embedded) -> None:
    th = EvidenceThresholds(similarity=0.6, words=0.0, relevance=0.3)
    invented = support("ICA was invented by radio astronomers in Chile.", QUESTION,
                       [CHUNK], embed)
    assert evidence_reasons(invented, th)[0].startswith("unsupported: no article sentence says")
    # a true step of the list, given as the answer to a question it does not answer
    other = support("The steps are centering, whitening and rotating the data.", QUESTION,
                    [CHUNK], embed)
    assert [r.split(" (")[0] for r in evidence_reasons(other, th)] == [
        "off the question: the article sentence it rests on answers something else"]
    assert evidence_reasons(support("ICA separates a mixed signal into its sources.",
                                    QUESTION, [CHUNK], embed), th) == []


def test_a_claim_that_says_more_than_its_sentence(embed: Embedded) -> None:
    more = support("ICA separates a mixed signal into its separate sources using neural "
                   "networks.", QUESTION, [CHUNK], embed)
    assert more[0].similarity >= 0.6 and more[0].words < 0.9
    assert evidence_reasons(more, EvidenceThresholds()) == [
        f"unsupported: \"{more[0].claim[:60]}\" says more than its article sentence "
        f"({more[0].words:.0%} of its words there)"]


def test_an_answer_with_no_article_passage_is_held(embed: Embedded) -> None:
    prompt = build_prompt(QUESTION, [], "chat", "–ShawGPT")
    v = review("ICA separates sound recordings into individual speakers. –ShawGPT", QUESTION,
               prompt, [], Policy(), checks=Checks(embed), praise=False, question=True)
    assert v.status == "needs_review"
    assert "unsupported: no article passage was found for this question, so nothing the " \
        "answer says can be checked" in v.reasons


def test_the_verdict_carries_the_evidence(embed: Embedded) -> None:
    prompt = build_prompt(QUESTION, [CHUNK], "chat", "–ShawGPT")
    v = review("ICA separates a mixed signal into its sources. –ShawGPT", QUESTION, prompt,
               [CHUNK], Policy(), checks=Checks(embed), praise=False, question=True)
    assert v.status == "ok", v.reasons
    assert [e.sentence for e in v.evidence] == [
        "Independent component analysis separates a mixed signal into its sources."]


@pytest.mark.parametrize("body", [
    "ICA is explained well, as Shaw asks in the article.",
    "Shawhin shows that the sources are independent.",
    "The author notes that whitening comes second.",
])
def test_the_creator_in_the_third_person_is_out_of_role(body: str) -> None:
    # the file names carry "by Shaw Talebi": that does not excuse it
    assert role_reasons(body, CHUNK.file)[0].startswith(
        "out of role: the creator in the third person")


def test_the_signature_name_is_not_the_third_person() -> None:
    assert role_reasons("ICA separates sources, says ShawGPT.", "") == []


@pytest.mark.parametrize("body", [
    "The mixing is undone by the expression below.",
    "The whitening matrix is as follows.",
    "The table above is the result.",
])
def test_a_pointer_to_what_the_reply_does_not_show_is_incoherent(body: str) -> None:
    assert any(r.startswith("incoherent: points to something the reply does not show")
               for r in coherence_reasons(body, ""))


def test_an_answer_cut_by_the_token_cap_is_held_even_when_trimmed(embed: Embedded) -> None:
    prompt = build_prompt(QUESTION, [CHUNK], "chat", "–ShawGPT")
    raw = ("ICA separates a mixed signal into its sources. It assumes the sources are "
           "statistically independent. The rotation is found by maximizing the non-Gauss")
    v = review(raw, QUESTION, prompt, [CHUNK], Policy(), checks=Checks(embed), praise=False,
               question=True)
    assert "incoherent: the model ran out of tokens mid-sentence" in v.reasons
    assert v.reply.startswith("ICA separates a mixed signal into its sources. It assumes the "
                              "sources are statistically independent.\n")


def test_the_signature_name_as_a_person_is_the_third_person(embed: Embedded) -> None:
    # stripping the signature would leave "No, did not run …" and hide who was named
    prompt = build_prompt(QUESTION, [CHUNK], "chat", "–ShawGPT")
    v = review("No, ShawGPT did not separate the sources by hand. –ShawGPT", QUESTION, prompt,
               [CHUNK], Policy(), checks=Checks(embed), praise=False, question=True)
    assert "out of role: the creator in the third person ('ShawGPT')" in v.reasons
    ok = review("ICA separates a mixed signal into its sources. – ShawGPT", QUESTION, prompt,
                [CHUNK], Policy(), checks=Checks(embed), praise=False, question=True)
    assert not any("third person" in r for r in ok.reasons)


def test_a_number_not_in_the_sentence_it_rests_on_is_unsupported(embed: Embedded) -> None:
    chunk = Source("llm.pdf", "9", 0.6, "Training a 100B parameter model costs about $1.5M "
                   "in GPU rental. Smaller models cost far less.")
    q = "What does it cost to train a 100B model?"
    wrong = support("Training a 100B model costs about $15 million.", q, [chunk], embed)
    assert wrong[0].numbers == ("15",)
    off = EvidenceThresholds(0.0, 0.0, 0.0)  # the number rule alone
    assert evidence_reasons(wrong, off) == [
        "unsupported: the number '15' is not in the article sentence \"Training a 100B model "
        "costs about $15 million.\" rests on"]
    right = support("It costs about $1.5M to train a 100B model.", q, [chunk], embed)
    assert right[0].numbers == () and evidence_reasons(right, off) == []


def test_the_signature_name_mid_sentence_is_read_before_the_reply_is_cut(
        embed: Embedded) -> None:
    # the reply is cut at its first signature; the name inside a sentence must still be seen
    prompt = build_prompt(QUESTION, [CHUNK], "chat", "–ShawGPT")
    v = review("To separate sources, ShawGPT suggests whitening first. It helps.", QUESTION,
               prompt, [CHUNK], Policy(), checks=Checks(embed), praise=False, question=True)
    assert "out of role: the creator in the third person ('ShawGPT')" in v.reasons
