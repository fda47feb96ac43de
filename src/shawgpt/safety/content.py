"""Content: does a reply say something the creator could post? Checks that judge the text.

guard.py's rules see links, contacts, canaries and length; a 135M model also writes fluent
text that is false, off-topic or incoherent. Each check here names what it found:

- coherent: no non-words (not in wordfreq's English list, nor in the comment or the chunks),
  no repeated sentence, no cut-off ending, no stray chat tags or role labels;
- in role: no talk about prompts, instructions, "your request", "my previous response",
  chat history, being an AI or a model, and no announcements about itself;
- on topic: the reply's embedding is close enough to the comment's (THRESHOLDS.topic);
- grounded: every sentence that states something is close to a sentence of the chunks or
  the comment (THRESHOLDS.grounded), or most of its content words are theirs
  (THRESHOLDS.overlap); named terms, numbers and units found in neither are "unsupported";
- fits the comment (fit.py): a reply to thanks or praise thanks or acknowledges, in at most
  three sentences, and claims, offers and apologises for nothing; a question gets more than
  thanks; a complaint is heard.

Similarity comes from the caller's embedder, passed in as `embed(texts) -> vectors` (safety
imports no model); Embedded caches vectors by text, so drafts of one comment and the chunks
they share are embedded once. The thresholds were calibrated with all-MiniLM-L6-v2 on half
of evals/replies/reply_comments.jsonl (docs/reply-quality.md). It leaves out the language check
(language.py), the text primitives (text.py) and everything guard.py already does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shawgpt.index.store import Source
from shawgpt.safety.evidence import OFF_QUESTION, UNSUPPORTED, EvidenceThresholds
from shawgpt.safety.fit import fit_reasons, praise_reasons
from shawgpt.safety.language import without_han
from shawgpt.safety.phrases import (
    ASSISTANT,
    MARKDOWN,
    NUMBER,
    OWN,
    POINTS,
    ROLE,
    TAG,
    THIRD,
    WANTS_CODE,
)
from shawgpt.safety.text import (
    ACK,
    claims,
    content_words,
    cosine,
    sentences,
    similarities,
    stem,
    words,
)

Embed = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class Thresholds:
    # calibrated on the drafts of the default model (Qwen2.5-Coder-1.5B) for half of
    # evals/replies/reply_comments.jsonl (docs/reply-quality.md): the most coverage at 92%
    # precision there (none reached it: the most precise, 91%), ties to the stricter setting
    topic: float = 0.4  # cosine of reply and comment, below it: off topic
    grounded: float = 0.6  # a sentence's best cosine with a chunk's or comment's sentence
    overlap: float = 0.8  # or the share of its content words the chunks or comment use
    quote: float = 0.45  # a composed reply's quote: its cosine with the comment, at least
    praise_sentences: int = 3  # longest reply to thanks or praise, in sentences


THRESHOLDS = Thresholds()
CANNOT_JUDGE = "cannot judge:"  # a check that does not hold for this reply says so
# How every reason of these checks begins, and the length cap's (a reply failing only these
# may be replaced by a composed one; a link, a contact or a leak says something else is going
# on).
PREFIXES = ("incoherent:", "out of role:", "formatting:", "off topic:", "ungrounded:",
            "contradicts:", UNSUPPORTED, OFF_QUESTION,
            "does not fit:", "the reply has no words", "the reply is in ", "reply is ")


@dataclass
class Embedded:
    """`embed` with a cache by text, so repeated texts cost nothing."""

    embed: Embed
    vectors: dict[str, list[float]] = field(default_factory=dict)

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embed(missing), strict=True))
        return [self.vectors[t] for t in texts]


@dataclass
class Checks:
    """What the content and language checks need: the embedder, the comment languages."""

    embed: Embedded
    languages: tuple[str, ...] = ("en",)
    thresholds: Thresholds = THRESHOLDS
    evidence: EvidenceThresholds = EvidenceThresholds()
    reply_language: str = "comment"  # the setting (reply/languages.py)
    # the similarity thresholds hold for this embedder (calibrated with all-MiniLM-L6-v2;
    # multilingual-e5's cosines sit in a higher band): else those checks cannot judge
    similarity: bool = True

    def warm(self) -> None:
        """Load the language models the checks read, ahead of the first reply."""
        from shawgpt.safety.language import warm_up

        warm_up(self.languages)


def non_words(body: str, known: str) -> list[str]:
    """Words of the reply in no English word list and not in the comment or the chunks."""
    from wordfreq import zipf_frequency

    # Chinese words are not in an English list: only the English words among them are read
    seen = set(words(without_han(known))) | OWN
    odd = []
    for w in dict.fromkeys(words(without_han(body))):
        if len(w) < 4 or w in seen or stem(w) in {stem(s) for s in seen if s[:3] == w[:3]}:
            continue
        if zipf_frequency(w, "en") == 0 and zipf_frequency(stem(w), "en") == 0:
            odd.append(w)
    return odd


def coherence_reasons(body: str, known: str) -> list[str]:
    reasons = []
    odd = non_words(body, known)
    if odd:
        reasons.append(f"incoherent: non-word {', '.join(repr(w) for w in odd[:3])}")
    said = [re.sub(r"\W+", " ", s.casefold()).strip() for s in sentences(body)]
    said = [s for s in said if len(s) > 10]
    lines = [ln.strip() for ln in body.splitlines() if len(ln.strip()) > 10]
    if len(said) != len(set(said)) or len(lines) != len(set(lines)):
        reasons.append("incoherent: a sentence is repeated")
    tail = body.rstrip()
    last = tail.split()[-1] if tail else ""
    # a link or a file name may end a reply without a full stop (the link rule judges it)
    if (tail and (tail[-1].isalnum() or tail[-1] in ",;:-–—(/&") and not ACK.search(tail[-3:])
            and not re.search(r"://|^www\.|\w\.\w", last)):
        reasons.append("incoherent: the reply stops mid-sentence")
    points = POINTS.search(body)  # copied from a chunk or not: the reply has no figure
    if points:
        reasons.append(f"incoherent: points to something the reply does not show "
                       f"({points.group(0)!r})")
    tag = TAG.search(body)
    if tag:
        reasons.append(f"incoherent: stray tag or role label {tag.group(0).strip()!r}")
    return reasons


def role_reasons(body: str, known: str = "") -> list[str]:
    """Talk about the prompt, the chat or itself, or an assistant's phrase; a phrase the
    comment or the chunks use ("the prompt" in an article on prompt engineering) is theirs,
    not the bot's. The creator named in the third person is never his own words."""
    third = THIRD.search(body)
    if third:
        return [f"out of role: the creator in the third person ({third.group(0)!r})"]
    low = known.casefold()
    for found in ROLE.finditer(body):
        if found.group(0).casefold() not in low:
            return [f"out of role: talks about itself or the prompt ({found.group(0)!r})"]
    for found in ASSISTANT.finditer(body):
        if found.group(0).casefold() not in low:
            return [f"out of role: an assistant's phrase ({found.group(0)!r})"]
    return []


def format_reasons(body: str, comment: str) -> list[str]:
    """Markdown in a reply to a comment that did not ask for code."""
    found = MARKDOWN.search(body)
    if found and not WANTS_CODE.search(comment):
        return [f"formatting: markdown in a plain-text reply ({found.group(0).strip()[:30]!r})"]
    return []


def unsupported_terms(body: str, known: str) -> list[str]:
    """Named terms (capitalised mid-sentence, acronyms, CamelCase), numbers and units of the
    reply that neither the comment nor the chunks contain."""
    low = known.casefold()
    numbers = [m.group(0).strip() for m in NUMBER.finditer(body)]
    units = {w for n in numbers for w in re.findall(r"[^\W\d_]+", n)}
    found = []
    for sentence in sentences(body):
        tokens = re.findall(r"[^\W_][\w'-]*", without_han(sentence))
        for k, tok in enumerate(tokens):
            named = (k > 0 and tok[0].isupper()) or re.search(r"[a-z][A-Z]|[A-Z]{2}", tok)
            if (named and tok not in units and tok.casefold() not in OWN
                    and tok.casefold().rstrip("s") not in low):
                found.append(tok)
    for num in numbers:
        if num.casefold() not in low and re.sub(r"\s+", "", num).casefold() not in low:
            found.append(num)
    return list(dict.fromkeys(found))


def known_text(comment: str, sources: Sequence[Source]) -> str:
    """What a reply may name: the comment, the chunks, and the articles' file names (a reply
    may cite an article by its title)."""
    return "\n".join([comment, *(s.text for s in sources), *(s.file for s in sources)])


def grounding_reasons(body: str, comment: str, sources: Sequence[Source], embed: Embedded,
                      th: Thresholds) -> list[str]:
    known = known_text(comment, sources)
    reasons = []
    terms = unsupported_terms(body, known)
    if terms:
        reasons.append(f"ungrounded: unsupported {', '.join(repr(t) for t in terms[:3])}")
    stated = claims(body)
    if not stated:
        return reasons
    # What the comment asks is not evidence: an answer that restates the question's guess
    # as fact ("the variable loadings of each of the 21 PCs") was grounded by it.
    stated_by_viewer = [s for s in sentences(comment) if not s.rstrip().endswith("?")]
    support = [t for s in sources for t in sentences(s.text)] + stated_by_viewer
    vocab = content_words("\n".join([*stated_by_viewer, *(s.text for s in sources),
                                      *(s.file for s in sources)]))
    vecs = embed(stated + support)
    sims = similarities(vecs[: len(stated)], vecs[len(stated) :]) if support else None
    for k, sentence in enumerate(stated):
        best = float(sims[k].max()) if sims is not None else 0.0
        cw = content_words(sentence)
        share = len(cw & vocab) / len(cw)
        if best < th.grounded and share < th.overlap:
            reasons.append(f"ungrounded: no chunk or comment supports \"{sentence[:60]}\" "
                           f"(similarity {best:.2f}, words {share:.0%})")
            break
    return reasons


def topic_reasons(body: str, comment: str, embed: Embedded, th: Thresholds) -> list[str]:
    a, b = embed([body, comment])
    sim = cosine(a, b)
    return [f"off topic: the reply is far from the comment (similarity {sim:.2f})"] \
        if sim < th.topic else []


def content_reasons(body: str, comment: str, sources: Sequence[Source], embed: Embedded,
                    praise: bool, th: Thresholds = THRESHOLDS,
                    question: bool | None = None, similarity: bool = True) -> list[str]:
    """Every content check's reasons, in the order a reviewer would want to read them.
    `similarity`: the embedder is one the thresholds hold for; without it, or for a reply
    mostly in Chinese, the checks that compare meanings (on topic, grounded, contradicts)
    say they cannot judge instead of passing or failing blindly (the words they read,
    numbers and named terms, are still checked)."""
    known = known_text(comment, sources)
    reasons = (coherence_reasons(body, known) + role_reasons(body, known)
               + format_reasons(body, comment))
    reasons += fit_reasons(body, comment, praise, question)
    if praise:
        return reasons + praise_reasons(body, comment, th.praise_sentences)
    from shawgpt.safety.contradict import contradiction_reasons
    from shawgpt.safety.language import han_share

    if not similarity or han_share(body) >= 0.3:
        why = "a reply in Chinese" if similarity else "this embedder"
        terms = unsupported_terms(body, known)
        return reasons + ([f"ungrounded: unsupported {', '.join(repr(t) for t in terms[:3])}"]
                          if terms else []) + [
            f"{CANNOT_JUDGE} on topic, grounded and contradicts are calibrated for English "
            f"with all-MiniLM-L6-v2, not for {why}: a person checks it against the sources"]
    return (reasons + topic_reasons(body, comment, embed, th)
            + grounding_reasons(body, comment, sources, embed, th)
            + contradiction_reasons(body, sources, embed))
