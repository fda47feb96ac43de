"""A claim judge, measured and not shipped: the answering model reads each claim of an
answer against the article passage it rests on, and says whether the passage states it.

Measured by eval_verifier.py --claims (docs/reply-quality.md): on the drafts the checks pass it
raised precision from 52% to 57% on the calibration half and from 49% to 57% on the report
half, for a prompt per claim, and with the evidence thresholds it held no further wrong
answer, so the product does not run it. Kept here so the measure can be repeated.

The checks of safety/ compare embeddings and words; they cannot tell "ICA separates mixed
signals" from "ICA separates mixed signals by frequency". Here the generator itself is the
judge, in plain completion (a raw Prompt, no chat template: in chat format the 1.5B model
said yes to 97 of 102 drafts, docs/reply-quality.md), after worked examples of the mistakes a
small model makes: a swapped term, a changed number, a negation, a claim that goes past the
passage, a true sentence that answers another question. Each claim of an `ok` answer
(safety/evidence.Support) is one prompt of two new tokens, all in one batch-first
generate() call, so the examples' prefix is read once (prefix caching). An answer with a claim
judged "no" gets the reason `unverified:`.
"""

from __future__ import annotations

from collections.abc import Sequence

from shawgpt.models.base import Generator, Prompt
from shawgpt.safety.evidence import Support

UNVERIFIED = "unverified:"
SHOTS = """Each example gives a premise from an article and a claim. The answer is yes only \
when the premise states everything the claim says; a claim that changes a term, a number or a \
direction, or adds anything the premise does not say, gets no.

Premise: Gradient boosting builds trees one after another. Each new tree is fit to the errors \
of the trees before it.
Claim: Gradient boosting fits each new tree to the errors of the earlier trees.
Answer: yes

Premise: Dropout randomly switches off a share of the neurons during training. Batch \
normalization rescales each layer's inputs.
Claim: Dropout rescales each layer's inputs during training.
Answer: no

Premise: The survey asked 1,200 analysts. About 30% of them used Python every day.
Claim: About 300 of the analysts used Python every day.
Answer: no

Premise: Precision is the share of predicted positives that are correct. It does not depend \
on the true negatives.
Claim: Precision is the share of the predicted positives that are actually correct.
Answer: yes

Premise: Random forests average many decision trees, each trained on a bootstrap sample.
Claim: Random forests average many trees, which makes them the best model for tabular data.
Answer: no

Premise: Early stopping halts training when the validation loss stops improving.
Claim: Early stopping does not look at the validation loss.
Answer: no

"""


def claim_prompt(s: Support) -> Prompt:
    """The plain-completion prompt for one claim, its passage as the premise."""
    premise = " ".join((s.passage or s.sentence).split()) or "(none)"
    claim = " ".join(s.claim.split())
    return Prompt(user=f"{SHOTS}Premise: {premise}\nClaim: {claim}\nAnswer:",
                  max_new_tokens=2)


def verify(generator: Generator, answers: Sequence[Sequence[Support]]) -> list[list[str]]:
    """The `unverified:` reasons of each answer (one list per answer, [] when every claim
    was judged stated), from one generate() call for all their claims."""
    prompts = [claim_prompt(s) for found in answers for s in found if s.sentence]
    said = iter(generator.generate(prompts) if prompts else [])
    out = []
    for found in answers:
        reasons: list[str] = []
        for s in found:
            if not s.sentence:
                continue
            verdict = next(said).strip().lower()
            if not verdict.startswith("yes") and not reasons:
                reasons.append(f"{UNVERIFIED} the article passage does not state "
                               f"\"{s.claim[:60]}\" (judged by the model)")
        out.append(reasons)
    return out
