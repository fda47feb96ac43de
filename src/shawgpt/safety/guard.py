"""Guard: make a generated reply safe to post, and say why when it is not.

`review` turns raw model output into a Verdict (reply, status, reasons). It removes model
artefacts, then applies deterministic rules to every reply:

- the signature exactly once, at the end (enforced);
- length: a short thank-you for short praise, a cap for everything (cut back to the last
  sentence that fits; flagged when even the first sentence does not fit);
- no URL, e-mail address or phone number unless it is in the retrieved context or the
  allow-list (flagged);
- no HTML or Markdown active content: tags, links, images, `javascript:` (flagged);
- the prompt's canary token, a long verbatim run of the prompt's own instructions, or a
  term from the never-post word list (blocked: the reply text is withheld);
- any sign that the model carried out an instruction of the comment's (obeyed.py: reasons
  starting "attack:", read on everything the model wrote).

With `checks` (content.py, language.py), also what the reply says: on topic, grounded,
coherent, in role, fit for the comment, in the comment's language, and the comment in one
of the `languages`; these need the caller's embedder, passed in.

Statuses: `ok`; `needs_review` with reasons (input flags from screen.py count too; the reply
is kept for a person to review unless it is blocked or `strict` is set); `skipped` (empty
comment); `error` (nothing usable generated). It leaves out the input checks (screen.py)
and choosing among drafts (reply/drafts.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shawgpt.config import Settings
from shawgpt.errors import ConfigError
from shawgpt.index.store import Source
from shawgpt.models.base import Prompt
from shawgpt.safety.content import Checks, content_reasons
from shawgpt.safety.evidence import Support, evidence_reasons, support
from shawgpt.safety.obeyed import obeyed_reasons
from shawgpt.safety.signature import (
    ARTEFACTS,
    cut_run_on,
    named_inside,
    strip_signature,
    trim_unfinished,
)
from shawgpt.text import sentence_ends

DEFAULT_BLOCKLIST = Path(__file__).with_name("blocklist.txt")
_TLDS = (r"com|net|org|io|ai|co|biz|info|xyz|ru|cn|me|ly|gg|app|dev|tk|us|uk|de|site|online|"
         r"top|link|click|shop|store|tv|to|in|sh|fm|page|blog|news|edu|gov|live|pro|club|win")
_URL = re.compile(
    rf"\b(?:(?:https?|hxxps?|ftp)://|www\.)[^\s<>\"'`)\]]+|"
    rf"\b(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"'`)\]]*)?|"
    rf"\b[a-z0-9-]+\s*(?:\[\.\]|\(\.\)|\{{\.\}}|\s(?:dot|\[dot\]|\(dot\))\s)\s*(?:{_TLDS})\b",
    re.I,
)
_EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\[at\]|\(at\))\s*[\w-]+(?:\.[\w-]+)+", re.I)
# may end a sentence ("call 555-987-6543."), but not run on into a word or a decimal
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ().-]{7,}\d(?!\w|\.\d)")
# an ISO date, maybe with a time ("2022-08-25 12:30"): digits enough for a phone, but not one
_DATE = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d(?:[ T][0-2]?\d(?::[0-5]\d){0,2})?")
# Elements that render, load or run something; an unknown <word> is shown as plain text.
_HTML = ("a|abbr|audio|b|base|body|br|button|canvas|code|details|div|em|embed|font|form|frame|"
         "h[1-6]|head|hr|html|i|iframe|img|input|link|li|marquee|meta|object|ol|p|picture|pre|"
         "script|select|source|span|strong|style|svg|table|td|textarea|th|tr|u|ul|video")
_ACTIVE = re.compile(
    rf"<\s*/?\s*({_HTML})\b[^<>]*>|<[a-z][a-z0-9-]*\s[^<>]*\bon[a-z]+\s*=[^<>]*>|"
    r"javascript\s*:|vbscript\s*:|data:[a-z]+/[a-z]+|"
    r"\bon(error|load|click|mouse\w*|focus|blur|key\w*|submit|change|input)\s*=|"
    r"!\[[^\]]*\]\([^)]*\)|\[[^\]\n]*\]\([^)\n]*\)|"
    r"^\s*\[[^\]\n]+\]:\s*\S+|&lt;\s*/?\s*[a-z]+|<https?:[^>]*>",
    re.I | re.M,
)
_PRAISE = re.compile(
    r"\b(thank|thanks|thx|ty|great|awesome|amazing|love|loved|loving|excellent|helpful|useful|"
    r"nice|cool|brilliant|fantastic|wonderful|best|clear|respect|luck|congrat\w*|epic|"
    r"addicted|inspiring|appreciated?|kudos|bravo|legend|wow|superb|perfect|gem)\b",
    re.I,
)


@dataclass(frozen=True)
class Policy:
    """What the rules need beyond the reply itself; built from settings."""

    signature: str = "–ShawGPT"
    max_chars: int = 700  # any reply body
    praise_chars: int = 240  # the reply to a short comment of praise or thanks
    allow_urls: tuple[str, ...] = ()  # hosts, URL prefixes, e-mail addresses or numbers
    blocklist: tuple[str, ...] = ()
    strict: bool = False
    # an answer to a question that passes every check may be `ok` (else a draft for a person)
    post_answers: bool = False
    run_words: int = 8  # this many consecutive words of the instructions count as a leak

    @classmethod
    def from_settings(cls, s: Settings) -> Policy:
        if s.max_reply_chars < 40 or s.max_comment_chars < 1:
            raise ConfigError("max_reply_chars must be at least 40 and max_comment_chars at "
                              f"least 1 (got {s.max_reply_chars}/{s.max_comment_chars})")
        extra = Path(s.blocklist_file).expanduser() if s.blocklist_file else None
        return cls(
            signature=s.signature,
            max_chars=s.max_reply_chars,
            praise_chars=min(240, s.max_reply_chars),
            allow_urls=tuple(a.strip().lower() for a in re.split(r"[,\s]+", s.allow_urls)
                             if a.strip()),
            blocklist=load_blocklist(extra),
            strict=s.strict,
            post_answers=s.post_answers,
        )


@dataclass
class Verdict:
    reply: str
    status: str  # ok | needs_review | error
    reasons: list[str] = field(default_factory=list)
    # each claim of an answer and the article sentence it rests on (evidence.py)
    evidence: list[Support] = field(default_factory=list)


def load_blocklist(extra: Path | None = None) -> tuple[str, ...]:
    """The bundled never-post list plus the user's file (one term per line, # comments)."""
    terms: list[str] = []
    for path in (DEFAULT_BLOCKLIST, extra):
        if path is None:
            continue
        try:
            rows = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read blocklist {path}: {exc}") from None
        terms += [r.strip() for r in rows if r.strip() and not r.lstrip().startswith("#")]
    return tuple(dict.fromkeys(terms))


def is_short_praise(comment: str) -> bool:
    """A short comment that thanks or praises and asks nothing."""
    return len(comment) <= 200 and "?" not in comment and bool(_PRAISE.search(comment))


def fit_length(body: str, cap: int) -> str:
    """`body` cut back to the last whole sentence within `cap` characters, when one fits."""
    if len(body) <= cap:
        return body
    ends = [end for end in sentence_ends(body) if end <= cap]
    return body[: ends[-1]].rstrip() if ends else body


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", unicodedata.normalize("NFKC", text).casefold())


def prompt_run(reply: str, instructions: str, n: int) -> str:
    """The first run of `n` consecutive words the reply shares with the instructions, or ""."""
    source = _words(instructions)
    grams = {tuple(source[i : i + n]) for i in range(len(source) - n + 1)}
    words = _words(reply)
    for i in range(len(words) - n + 1):
        if tuple(words[i : i + n]) in grams:
            return " ".join(words[i : i + n])
    return ""


def _allowed(item: str, context: str, allow: Sequence[str]) -> bool:
    low = item.lower().rstrip(".,;:!?")
    host = re.sub(r"^[a-z]+://|^www\.", "", low).split("/")[0]
    digits = re.sub(r"\D", "", low)
    if low in context or (host and host in context):
        return True
    if item == digits or (len(digits) >= 7 and not re.search(r"[a-z]", low)):
        return digits in re.sub(r"\D", "", context) or any(digits == re.sub(r"\D", "", a)
                                                            for a in allow if a)
    return any(low.startswith(a) or host == a or host.endswith("." + a) or low == a
               for a in allow)


def contact_reasons(body: str, context: str, allow: Sequence[str]) -> list[str]:
    """URLs, e-mail addresses and phone numbers not found in the context or the allow-list."""
    context = context.lower()
    reasons = []
    emails = [m.group(0) for m in _EMAIL.finditer(body)]
    rest = _EMAIL.sub(" ", body)
    undated = _DATE.sub(" ", rest)
    for kind, found in (("a URL", [m.group(0) for m in _URL.finditer(rest)]),
                        ("an e-mail address", emails),
                        ("a phone number", [m.group(0) for m in _PHONE.finditer(undated)
                                            if 9 <= len(re.sub(r"\D", "", m.group(0))) <= 15])):
        bad = [f for f in found if not _allowed(f, context, allow)]
        if bad:
            reasons.append(f"reply contains {kind} not in the context or allow-list: {bad[0]}")
    return reasons


def blocked_reasons(body: str, prompt: Prompt, policy: Policy) -> list[str]:
    """Reasons the reply must never be posted: a prompt leak or a never-post term."""
    reasons = []
    flat = re.sub(r"[\W_]+", "", body.casefold())
    token = prompt.canary.split("-")[-1].casefold()
    if token and token in flat:
        reasons.append("blocked: the reply contains the prompt's canary token (prompt leak)")
    run = prompt_run(body, prompt.instructions, policy.run_words) if prompt.instructions else ""
    if run:
        reasons.append(f"blocked: the reply repeats the prompt's instructions (\"{run}\")")
    text = unicodedata.normalize("NFKC", body).casefold()
    for term in policy.blocklist:
        words = [re.escape(w) for w in term.casefold().split()]
        if re.search(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", text):
            reasons.append(f"blocked: the reply contains a never-post term (\"{term}\")")
            break
    return reasons


def _content(body: str, comment: str, sources: Sequence[Source], checks: Checks,
             praise: bool | None, question: bool | None) -> list[str]:
    from shawgpt.safety.language import reply_reason

    if not any(ch.isalpha() for ch in body):
        return ["the reply has no words"]
    said = reply_reason(body, comment, checks.languages, checks.reply_language)
    if praise is None:  # thanks or praise that asks nothing, however long
        praise = "?" not in comment and bool(_PRAISE.search(comment))
    return ([said] if said else []) + content_reasons(body, comment, sources, checks.embed,
                                                      praise, checks.thresholds, question,
                                                      checks.similarity)


def review(raw: str, comment: str, prompt: Prompt, sources: Sequence[Source], policy: Policy,
           input_reasons: Sequence[str] = (), edited: bool = False,
           checks: Checks | None = None, praise: bool | None = None,
           question: bool | None = None) -> Verdict:
    """Clean the raw output, apply every rule, and settle status, reasons and reply; with
    `checks`, the content and language checks too (content.py, language.py). `praise` and
    `question`: the caller's reading of the comment as thanks or praise, and as asking
    something (None: a lexical one here).

    `edited`: the text is a person's (review's edit), so nothing of it is cut, neither an
    unfinished last sentence nor past the length cap (that is flagged instead)."""
    reasons = list(input_reasons)
    if checks is not None:
        from shawgpt.safety.language import comment_reason

        heard = comment_reason(comment, checks.languages)
        reasons += [heard] if heard else []
    text = whole = ARTEFACTS.sub("", raw).strip()
    if not edited:
        text = cut_run_on(text, policy.signature)
    body = strip_signature(text if edited else trim_unfinished(text), policy.signature)
    if not body:
        return Verdict("", "error", [*reasons, "the model wrote nothing usable"])
    cap = policy.praise_chars if is_short_praise(comment) else policy.max_chars
    body = body if edited else fit_length(body, cap)
    if len(body) > cap:
        reasons.append(f"reply is {len(body)} characters, over the cap of {cap}")
    context = "\n".join(s.text for s in sources)
    reasons += contact_reasons(body, context, policy.allow_urls)
    if not edited:  # a person's edit carries out nobody's instruction
        reasons += obeyed_reasons(whole, comment, context)
    if _ACTIVE.search(body):
        found = _ACTIVE.search(body)
        assert found is not None
        reasons.append(f"reply contains HTML or Markdown active content: {found.group(0)[:40]}")
    # a leak or a never-post term anywhere in what the model wrote, run-on text included
    blocked = blocked_reasons(body if edited else whole, prompt, policy)
    reasons += blocked
    evidence: list[Support] = []
    if checks is not None and not blocked:
        reasons += _content(body, comment, sources, checks, praise, question)
        named = named_inside(whole, policy.signature)
        if named:  # the signature's name as a person: the creator in the third person
            reasons.append(f"out of role: the creator in the third person ({named!r})")
        if not edited and trim_unfinished(text) != text:
            # the token cap fell mid-sentence: what is left may be whole sentences, but the
            # answer it was building (often "the expression below: …") is not there
            reasons.append("incoherent: the model ran out of tokens mid-sentence")
        if (question if question is not None else bool(sources)) and not praise:
            evidence = support(body, comment, sources, checks.embed)
            reasons += evidence_reasons(evidence, checks.evidence)
    reply = f"{body}\n{policy.signature}"
    if reply.count(policy.signature) != 1:
        reasons.append("the signature appears more than once")
    if blocked or (reasons and policy.strict):
        reply = ""
    return Verdict(reply, "needs_review" if reasons else "ok", reasons, evidence)
