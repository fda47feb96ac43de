"""Drafts: n candidates in one generate() call, the best passing one kept, and the reply
composed from the creator's own words when none passes (real embedder, stand-in generator).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from shawgpt.answer.extract import quotable, title
from shawgpt.config import load_settings
from shawgpt.index.store import Source
from shawgpt.models.base import Prompt
from shawgpt.reply.drafts import (
    ANSWER,
    COMPOSED,
    compose,
    expand,
    settle,
    voice,
)
from shawgpt.reply.pipeline import reply_to
from shawgpt.reply.prompts import build_prompt, bundled_prompts_dir
from shawgpt.reply.wiring import Parts
from shawgpt.safety.content import Checks, Embedded
from shawgpt.safety.fit import fit_reasons
from shawgpt.safety.guard import Policy

FOLDER = bundled_prompts_dir()
ICA = Source("Independent Component Analysis (ICA) _ by Shaw Talebi _ Towards Data Science.pdf",
             "4", 0.58,
             "ents are hidden. Independent component analysis separates a mixed signal into "
             "statistically independent sources. In the example, the EEG recording mixes brain "
             "activity with eye blinks, and ICA pulls the blinks out as their own component. "
             "| comp | var |\n| 1 | 0.3 |\nica = FastICA(n_components=21)")
QUESTION = "What does ICA separate in the EEG example?"
PROMPT = build_prompt(QUESTION, [ICA], "chat", "–ShawGPT", canary="ref-0123456789")


@pytest.fixture(scope="module")
def checks(embedder) -> Checks:
    return Checks(Embedded(embedder.embed_texts))


def test_expand_makes_numbered_drafts_of_each_prompt() -> None:
    a, b = Prompt(user="a"), Prompt(user="b")
    assert [(p.user, p.draft) for p in expand([a, b], 3)] == [
        ("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2)]
    assert expand([a], 1) == [a]


def test_the_title_comes_from_the_file_name() -> None:
    assert title(ICA) == "Independent Component Analysis (ICA)"


def test_tables_code_and_cut_sentences_are_not_quoted() -> None:
    assert quotable("Independent component analysis separates a mixed signal into sources.")
    assert not quotable("| comp | var | | 1 | 0.3 | and more words to reach the length")
    assert not quotable("ica = FastICA(n_components=21) is how the code runs it, see above.")
    assert not quotable("ents are hidden and the rest of a sentence cut by the chunker.")


def test_compose_quotes_the_closest_sentences_with_the_title(checks: Checks) -> None:
    reply = compose(QUESTION, [ICA], checks.embed, voice(FOLDER))
    assert '"Independent Component Analysis (ICA)"' in reply
    assert "ICA pulls the blinks out as their own component." in reply
    assert reply.split(" As I put it")[0] in voice(FOLDER)["question-open"]
    assert "FastICA" not in reply and "| comp" not in reply


def test_the_best_passing_answer_is_a_draft_for_a_person_unless_answers_are_posted(
        checks: Checks) -> None:
    drafts = ["I love pizza on Fridays.",
              "ICA pulls the eye blinks out of the EEG recording as their own component."]
    v = settle(drafts, QUESTION, PROMPT, [ICA], Policy(), [], checks, FOLDER)
    # about half of the answers that pass every check are right (docs/reply-quality.md)
    assert v.status == "needs_review" and v.reasons == [ANSWER]
    assert v.reply.startswith("ICA pulls the eye blinks out")
    assert v.evidence and v.evidence[0].file == ICA.file  # what the person checks it against
    posted = settle(drafts, QUESTION, PROMPT, [ICA], Policy(post_answers=True), [], checks,
                    FOLDER)
    assert posted.status == "ok" and posted.reply == v.reply


def test_an_answer_is_cut_back_to_the_sentences_that_pass(checks: Checks) -> None:
    draft = ("ICA pulls the eye blinks out of the EEG recording as their own component. "
             "The article does not cover how ICA works.")
    v = settle([draft], QUESTION, PROMPT, [ICA], Policy(post_answers=True), [], checks, FOLDER)
    assert (v.status, v.reply) == ("ok", "ICA pulls the eye blinks out of the EEG recording "
                                         "as their own component.\n–ShawGPT")


def test_when_every_draft_fails_a_question_gets_the_composed_reply_for_a_person(
        checks: Checks) -> None:
    drafts = ["I'm designed to provide accurate and informative responses.",
              "The Kurtathies of pizza are delicious."]
    v = settle(drafts, QUESTION, PROMPT, [ICA], Policy(), [], checks, FOLDER)
    # 10 of 52 labelled quotes answered their question: never `ok` on its own
    assert v.status == "needs_review" and v.reasons == [COMPOSED]
    assert "As I put it in \"Independent Component Analysis (ICA)\"" in v.reply
    assert v.reply.endswith("\n–ShawGPT")


def test_no_quote_is_offered_when_none_is_near_the_question(checks: Checks) -> None:
    assert compose("Which football team do you support?", [ICA], checks.embed,
                   voice(FOLDER), least=0.45) == ""


def test_sentences_that_lean_on_their_neighbours_are_not_quoted() -> None:
    assert not quotable("Thus, the larger the kurtosis, the fatter the tail of the data.")
    assert not quotable("The basic idea is to modify their weights by the following equation.")
    assert not quotable("Before moving on to an example, I will briefly compare PCA and ICA.")
    assert not quotable("How do we define fat-tailedness when there is no true measure?")
    assert quotable("Kurtosis is driven by values far from the center (i.e. the tails).")


def test_thanks_with_a_but_gets_no_stock_line(checks: Checks) -> None:
    comment = "Audio's a bit quiet on this one. This series is great though, thanks!"
    v = settle(["I recently watched a documentary about islands."], comment,
               Prompt(user=comment), [], Policy(), [], checks, FOLDER)
    assert v.status == "needs_review"
    assert v.reply.removesuffix("\n–ShawGPT") not in voice(FOLDER)["thanks"]


def test_a_flagged_comment_or_a_link_is_never_papered_over(checks: Checks) -> None:
    drafts = ["I love pizza on Fridays."]
    flagged = settle(drafts, QUESTION, PROMPT, [ICA], Policy(), ["role-play jailbreak"], checks,
                     FOLDER)
    assert flagged.status == "needs_review" and flagged.reply.startswith("I love pizza")
    link = settle(["See https://evil.example for ICA."], QUESTION, PROMPT, [ICA], Policy(), [],
                  checks, FOLDER)
    assert link.status == "needs_review" and "evil.example" in link.reply


def test_without_checks_the_first_draft_is_judged_by_the_rules_alone() -> None:
    v = settle(["I love pizza on Fridays."], QUESTION, PROMPT, [ICA], Policy(post_answers=True),
               [], None, FOLDER)
    assert v.status == "ok"
    # an answer still goes to a person unless answers are posted
    held = settle(["I love pizza on Fridays."], QUESTION, PROMPT, [ICA], Policy(), [], None,
                  FOLDER)
    assert (held.status, held.reasons) == ("needs_review", [ANSWER])


class Drafting:
    """A stand-in backend that writes something else for every draft number."""

    name = "drafting"

    def __init__(self, by_draft: list[str]) -> None:
        self.by_draft, self.calls = by_draft, []

    def generate(self, prompts: Sequence[Prompt], done: Any = None) -> list[str]:
        self.calls.append([p.draft for p in prompts])
        return [self.by_draft[p.draft] for p in prompts]


def test_reply_to_sends_every_draft_in_one_call_and_keeps_a_passing_one() -> None:
    gen = Drafting(["My new channel is dedicated to showcasing innovative ideas!",
                    "Thanks so much, glad it was clear!"])
    parts = Parts(load_settings({"drafts": 2}, env={}), _generator=gen)
    r = reply_to(parts, ["Thanks Shaw, this made wavelets click.", "Great video!"],
                 say=lambda _m: None, use_context=False)
    assert gen.calls == [[0, 1, 0, 1]]
    assert [x.status for x in r] == ["ok", "ok"]
    assert r[0].reply == "Thanks so much, glad it was clear!\n–ShawGPT"


def test_thanks_whose_drafts_all_fail_gets_the_creators_thank_you_line() -> None:
    gen = Drafting(["I recently watched a documentary about climate change on islands."])
    parts = Parts(load_settings({}, env={}), _generator=gen)
    r = reply_to(parts, ["Honestly the most straightforward explanation I've ever watched."],
                 say=lambda _m: None, use_context=False)[0]
    assert r.status == "ok" and r.reply.removesuffix("\n–ShawGPT") in voice(FOLDER)["thanks"]


def test_a_wish_gets_a_wish_line_not_glad_you_liked_it() -> None:
    gen = Drafting(["I recently watched a documentary about climate change on islands."])
    parts = Parts(load_settings({}, env={}), _generator=gen)
    r = reply_to(parts, ["More power to you, man. Good luck."], say=lambda _m: None,
                 use_context=False)[0]
    assert r.status == "ok"
    assert r.reply.removesuffix("\n–ShawGPT") in voice(FOLDER)["thanks-wish"]


def test_the_creators_own_emoji_is_not_awkward(checks: Checks) -> None:
    comment = "Addicted to this channel."
    ok = settle(["Glad it did! 😅"], comment, Prompt(user=comment), [], Policy(), [], checks,
                FOLDER)
    assert ok.status == "ok" and ok.reply.startswith("Glad it did! 😅")
    assert fit_reasons("Glad it did! 😢", comment, praise=True) == [
        "does not fit: an awkward emoji"]


def test_an_over_long_draft_to_praise_is_replaced_by_a_thank_you_line() -> None:
    gen = Drafting(["Wavelets are useful. " * 30])
    parts = Parts(load_settings({}, env={}), _generator=gen)
    r = reply_to(parts, ["Awesome video ... never knew wavelets were this powerful."],
                 say=lambda _m: None, use_context=False)[0]
    assert r.status == "ok"
    assert r.reply.removesuffix("\n–ShawGPT") in voice(FOLDER)["thanks"]


def test_thanks_get_a_short_token_budget_and_questions_the_full_one() -> None:
    class Recording:
        name = "recording"

        def __init__(self) -> None:
            self.limits: list[int] = []

        def generate(self, prompts: Sequence[Prompt], done: Any = None) -> list[str]:
            self.limits += [p.max_new_tokens for p in prompts]
            return ["Thanks, glad it helped!" for _ in prompts]

    gen = Recording()
    parts = Parts(load_settings({}, env={}), _generator=gen)
    reply_to(parts, ["Great video, thanks!", "How does ICA work?"], say=lambda _m: None,
             use_context=False)
    assert gen.limits == [40, 0]  # 0: the backend's max_new_tokens
    gen.limits.clear()
    parts = Parts(load_settings({"thanks_tokens": 0}, env={}), _generator=gen)
    reply_to(parts, ["Great video, thanks!"], say=lambda _m: None, use_context=False)
    assert gen.limits == [0]


def test_cutting_back_never_hides_the_creator_in_the_third_person(checks: Checks) -> None:
    # stripping the signature from "…, ShawGPT suggests …" once left "…,suggests …" to pass
    draft = ("ICA pulls the eye blinks out of the EEG recording, ShawGPT suggests as a first "
             "step. It works on any recording.")
    v = settle([draft], QUESTION, PROMPT, [ICA], Policy(post_answers=True), [], checks, FOLDER)
    # no prefix of it passes, so the question gets the article's own words for a person
    assert (v.status, v.reasons) == ("needs_review", [COMPOSED])
    assert "suggests" not in v.reply
