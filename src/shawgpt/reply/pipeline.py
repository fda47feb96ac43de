"""Pipeline: the core functions the CLI calls — index, retrieve, reply.

Each takes the parts built by wiring.py and returns plain data; printing is the CLI's job.
`reply_to` handles any number of comments at once (batch-first): one embedding call, one
retrieval, generation in groups by the backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from shawgpt.config import Settings
from shawgpt.errors import IndexMissingError
from shawgpt.index.store import Index, Source
from shawgpt.index.sync import Progress, SyncOptions, SyncReport, sync_index
from shawgpt.models.base import Done, Prompt
from shawgpt.reply import log
from shawgpt.reply.candidates import Candidate, offered, term_weights
from shawgpt.reply.prompts import build_prompt
from shawgpt.reply.wiring import Parts
from shawgpt.retrieval.evaluate import Label, Report, score
from shawgpt.retrieval.retrieve import retrieve
from shawgpt.safety.content import Checks
from shawgpt.safety.evidence import Support
from shawgpt.safety.guard import Policy, review

Say = Callable[[str], None]


@dataclass
class Reply:
    comment: str
    reply: str
    status: str  # ok | needs_review | skipped | error
    sources: list[Source] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # each sentence of an answer and the article sentence it rests on (safety/evidence.py)
    evidence: list[Support] = field(default_factory=list)
    # for a question: the other replies a person may pick in `review` (reply/candidates.py)
    candidates: list[Candidate] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)  # `reasons` always, [] when there are none (as documented)


def run_index(parts: Parts, full: bool = False, articles: Path | None = None,
              progress: Progress | None = None) -> SyncReport:
    s = parts.settings
    opts = SyncOptions(s.chunk_size, s.chunk_overlap, full=full, max_pages=s.max_pages,
                       max_bytes=int(s.max_file_mb * 1024 * 1024), lock_timeout=s.lock_timeout,
                       chroma_url=s.chroma_url, pdf_reader=s.pdf_reader)
    report = sync_index(articles or Path(s.articles_dir), parts.index_root, parts.embedder,
                        parts.cleaner, opts, progress)
    if report.added or report.updated:
        from shawgpt.reply.languages import article_notes

        report.notes = article_notes(parts, [*report.added, *report.updated])
    return report


def ensure_index(parts: Parts, say: Say) -> Index:
    """The live index; built from the articles folder first when there is none yet."""
    index = parts.open_index()
    if index is not None:
        return index
    folder = Path(parts.settings.articles_dir)
    say(f"No index yet: building it from {folder}/ first.")
    report = run_index(parts)
    index = parts.open_index()
    if index is None:
        reasons = "; ".join(f"{f}: {r}" for f, r in report.failed.items())
        raise IndexMissingError(f"no article in {folder} could be indexed ({reasons})")
    return index


def find_sources(parts: Parts, comments: Sequence[str], say: Say,
                 top_k: int | None = None,
                 topics: Sequence[str] | None = None) -> list[list[Source]]:
    """The chunks each comment's reply uses (gate, hybrid, rerank and cutoff per settings);
    `reply`, `retrieve`, `batch` and `eval` all come through here.

    `topics` (a video title per comment, with the `video_context` setting) only reorders:
    the comment alone decides whether it gets context and which chunks, then
    `"<topic>. <comment>"` ranks them (the title alone could pull in chunks of a video's
    subject the comment never asked about); evals/retrieval/eval_video_context.py measures it."""
    from dataclasses import replace

    from shawgpt.retrieval.retrieve import Strategy, search

    s = parts.settings
    index = ensure_index(parts, say)
    k = top_k or s.top_k
    strategy = Strategy(hybrid=s.hybrid, rerank=s.rerank, gate=s.gate, candidates=s.candidates)

    def find(texts: Sequence[str], how: Strategy) -> list[list[Source]]:
        if how.plain:  # the original pipeline: cosine top-k through Chroma, cutoff
            return retrieve(texts, parts.embedder, index, k, s.cutoff)
        return search(texts, parts.embedder, index, k, s.cutoff, how)

    found = find(search_texts(parts, comments, index), strategy)
    if topics and s.video_context:
        again = [i for i, f in enumerate(found) if len(f) > 1 and topics[i].strip()]
        titled = find([f"{topics[i].strip()}. {comments[i]}" for i in again],
                      replace(strategy, gate=False))  # the gate has read the comment
        for i, order in zip(again, titled, strict=True):
            place = {(c.file, c.page, c.text): n for n, c in enumerate(order)}
            found[i] = sorted(found[i], key=lambda c: place.get((c.file, c.page, c.text),
                                                                len(place)))
    return found


def search_texts(parts: Parts, comments: Sequence[str], index: Index) -> list[str]:
    """The comments as the search reads them: with `translate_queries`, each one the gate
    lets through also in the other language of `languages` (reply/languages.py)."""
    from shawgpt.reply import languages as lang
    from shawgpt.retrieval.hybrid import load_corpus
    from shawgpt.retrieval.retrieve import needs_context
    from shawgpt.safety.language import parse_languages

    allowed = parse_languages(parts.settings.languages)
    if not parts.settings.translate_queries or len(allowed) < 2:
        return list(comments)
    corpus = load_corpus(index)
    asks = [i for i, c in enumerate(comments)
            if c.strip() and (not parts.settings.gate or needs_context(c, corpus))]
    said = parts.generator.generate(lang.translation_prompts([comments[i] for i in asks],
                                                             allowed)) if asks else []
    translations = [""] * len(comments)
    for i, text in zip(asks, said, strict=True):
        translations[i] = text
    return lang.search_texts(comments, translations)


def gate_reason(parts: Parts, comment: str) -> str | None:
    """Why the gate gives a comment no context ("thanks", "chatter", "empty"), or None when
    the gate is off or lets it through; for `retrieve` to explain an empty result."""
    from shawgpt.retrieval.gate import classify
    from shawgpt.retrieval.hybrid import load_corpus, tokenize

    if not parts.settings.gate:
        return None
    corpus = load_corpus(ensure_index(parts, lambda _msg: None))
    verdict = classify(comment, corpus.discussed, corpus.specific, tokenize)
    return None if verdict.needs_context else verdict.reason


@dataclass
class Job:
    """One non-empty comment made ready for the generator."""

    index: int  # its position in the caller's list
    comment: str  # as screened (cut to max_comment_chars)
    reasons: list[str]  # the input screen's flags
    sources: list[Source]
    prompt: Prompt


def prepare(parts: Parts, comments: Sequence[str], say: Say, use_context: bool = True,
            topics: Sequence[str] | None = None) -> list[Job]:
    """Screen, retrieve and build the prompt of every non-empty comment, in order;
    `topics`: each comment's video title (find_sources)."""
    from shawgpt.reply.languages import ask_for, reply_language
    from shawgpt.safety.language import parse_languages
    from shawgpt.safety.sanitize import strip_controls
    from shawgpt.safety.screen import screen_comment

    s = parts.settings
    wanted = [i for i, c in enumerate(comments) if strip_controls(c).strip()]
    # Input checks: truncated to the cap, injection patterns named; flagged ones still get
    # a reply so a person can review it.
    screened = [screen_comment(comments[i].strip(), s.max_comment_chars) for i in wanted]
    texts = [sc.text for sc in screened]
    found = find_sources(parts, texts, say, topics=[topics[i] for i in wanted] if topics
                         else None) if use_context and texts else [[] for _ in texts]
    voice = parts.voice
    shown = voice.for_comments(texts) if voice is not None else [[] for _ in texts]
    allowed = parse_languages(s.languages)
    asks = [ask_for(reply_language(s.reply_language, t, allowed)) for t in texts]
    return [Job(i, sc.text, list(sc.reasons), src,
                replace(build_prompt(sc.text, focused(parts, sc.text, src), s.template,
                                     s.signature, parts.prompts_dir, examples=ex,
                                     language=ask),
                        max_new_tokens=budget(s, sc.text)))
            for i, sc, src, ex, ask in zip(wanted, screened, found, shown, asks, strict=True)]


def budget(s: Settings, comment: str) -> int:
    """New tokens for this comment's reply: `thanks_tokens` for thanks or praise (a reply
    that runs on past a thank-you is replaced by the creator's line anyway), else 0 (the
    backend's `max_new_tokens`)."""
    from shawgpt.retrieval.gate import read_comment

    praise = read_comment(comment)[1]
    return min(s.thanks_tokens, s.max_new_tokens) if s.thanks_tokens and praise else 0


def focused(parts: Parts, comment: str, sources: Sequence[Source]) -> list[Source]:
    """What of the chunks the prompt carries (`context_words`, reply/focus.py); the checks
    read the whole chunks."""
    from shawgpt.reply.focus import focus

    return focus(comment, sources, parts.embedder.embed_texts, parts.settings.context_words)


def content_checks(parts: Parts) -> Checks | None:
    """The content and language checks per settings (None when `content_checks` is off)."""
    from shawgpt.models.e5_embed import SPEC as E5
    from shawgpt.safety.content import Checks, Embedded
    from shawgpt.safety.evidence import OFF, EvidenceThresholds
    from shawgpt.safety.language import parse_languages

    s = parts.settings
    if not s.content_checks:
        return None
    # the evidence thresholds decide only whether an answer may be posted unread; when
    # answers go to a person anyway they would only swap a draft for a composed quote
    evidence = EvidenceThresholds() if s.post_answers else OFF
    return Checks(Embedded(parts.embedder.embed_texts), parse_languages(s.languages),
                  evidence=evidence, reply_language=s.reply_language,
                  # the thresholds are MiniLM's; e5's cosines sit in a higher band
                  similarity=parts.embedder.name != E5)


def reply_to(parts: Parts, comments: Sequence[str], say: Say,
             use_context: bool = True, draft: int = 0,
             topics: Sequence[str] | None = None, made: Done | None = None,
             command: str = "reply") -> list[Reply]:
    """A checked reply for every comment, in order (guard.py, content.py): `ok`,
    `needs_review` with reasons, `error`, or `skipped` for an empty comment; with `strict`
    only `ok` keeps text. `drafts` candidates per comment, the best passing one kept, else
    a reply composed from the chunks (drafts.py). `draft` k > 0 asks for alternatives
    sampled from seed k on (models/base.py); `topics`: each comment's video title; `made(i)`
    as comment i's drafts are written, before the checks (batch's progress); `command`
    names the caller in the reply log (log.py, with the `logs` setting)."""
    from shawgpt.reply.drafts import expand, settle
    from shawgpt.reply.prompts import bundled_prompts_dir

    started, s = time.monotonic(), parts.settings
    policy = Policy.from_settings(s)
    checks = content_checks(parts)
    if any(c.strip() for c in comments):
        # before any prompt is built: a warm server's canary is taken here (wiring.py), and
        # a prompt built with this process's own would miss the server's prefix cache
        parts.preload_generator()
    jobs = prepare(parts, comments, say, use_context, topics)
    if checks is not None and jobs:
        checks.warm()  # while the generator still loads in its thread (wiring.py)
    n = max(1, s.drafts)
    # every draft of every comment in one call, so a batch-first backend decodes them together
    prompts = expand([j.prompt for j in jobs], n, first=draft)
    left = [n] * len(jobs)

    def drafted(k: int) -> None:  # prompt k is draft k % n of job k // n
        left[k // n] -= 1
        if made is not None and not left[k // n]:
            made(jobs[k // n].index)

    before = log.tokens(parts.generator) if prompts else None
    raw = parts.generator.generate(prompts, drafted) if prompts else []
    spent = log.tokens(parts.generator, before) if len(jobs) == 1 else None  # one reply's
    folder = parts.prompts_dir or bundled_prompts_dir()
    replies = [Reply(c, "", "skipped", reasons=["empty comment"]) for c in comments]
    verdicts = [settle(raw[k * n : (k + 1) * n], j.comment, j.prompt, j.sources, policy,
                       j.reasons, checks, folder) for k, j in enumerate(jobs)]
    idf = term_weights(parts) if use_context and jobs else None  # one index read per call
    for j, v in zip(jobs, verdicts, strict=True):
        v, others = (offered(parts, j.comment, j.reasons, j.prompt, j.sources, v, checks,
                             policy, folder, idf) if use_context else (v, []))
        replies[j.index] = Reply(comments[j.index].strip(), v.reply, v.status, j.sources,
                                 reasons=v.reasons, evidence=v.evidence, candidates=others)
    if s.logs and jobs:
        took = time.monotonic() - started
        log.record(s.data_path, [log.entry(s, command, j.prompt, replies[j.index], took,
                                           spent) for j in jobs])
    return replies


def check_reply(parts: Parts, comment: str, text: str, say: Say) -> Reply:
    """A person's text for a comment through the same output checks as a generated reply
    (the comment's screen, its retrieved context and prompt, the signature), for review."""
    from shawgpt.safety.screen import screen_comment

    started, s = time.monotonic(), parts.settings
    sc = screen_comment(comment.strip(), s.max_comment_chars)
    found = find_sources(parts, [sc.text], say)[0]
    prompt = build_prompt(sc.text, found, s.template, s.signature, parts.prompts_dir)
    v = review(text, sc.text, prompt, found, Policy.from_settings(s), sc.reasons, edited=True)
    checked = Reply(comment.strip(), v.reply, v.status, found, reasons=v.reasons)
    if s.logs:  # a person's text, logged with the prompt a generated reply would have had
        log.record(s.data_path, [log.entry(s, "review-edit", prompt, checked,
                                           time.monotonic() - started)])
    return checked


def render_prompts(parts: Parts, texts: Sequence[str], say: Say, use_context: bool = True,
                   canary: str | None = None,
                   draft: int = 0) -> tuple[list[list[Source]], list[Prompt]]:
    """The sources and the Prompt of each screened comment, exactly as `reply` sends them;
    `finetune` trains on the same prompts."""
    s = parts.settings
    found = find_sources(parts, texts, say) if use_context and texts else [[] for _ in texts]
    prompts = [replace(build_prompt(c, focused(parts, c, src), s.template, s.signature,
                                    parts.prompts_dir, canary),
                       draft=draft) for c, src in zip(texts, found, strict=True)]
    return found, prompts


def reply_one(parts: Parts, comment: str, say: Say, use_context: bool = True) -> Reply:
    """One comment's reply; an empty one is `skipped` without loading a model, as in batch."""
    if not comment.strip():
        return Reply("", "", "skipped", reasons=["empty comment"])
    return reply_to(parts, [comment], say, use_context)[0]  # it starts the generator first


def evaluate(parts: Parts, labels: Sequence[Label], say: Say) -> Report:
    """Run the labelled comments through the retrieval `reply` uses and score them."""
    s = parts.settings
    found = find_sources(parts, [lab.comment for lab in labels], say)
    report = score(labels, found, s.top_k)
    report.settings = {"embed_model": s.embed_model, "hybrid": s.hybrid, "rerank": s.rerank,
                       "gate": s.gate, "cutoff": s.cutoff, "top_k": s.top_k,
                       "candidates": s.candidates}
    return report
