"""The command line: parse, call one core function, print. Nothing else lives here.

Settings flags go before the command (`shawgpt --profile shawgpt reply "..."`) or, for the
common ones, after it. Every ShawGPTError becomes one line `Error: …` on stderr and exit 1
(exits.py).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from shawgpt import __version__
from shawgpt.cli.exits import err as _err
from shawgpt.cli.exits import handled, quiet_warnings, run_and_exit, show_logs
from shawgpt.cli.exits import json_text as _json
from shawgpt.cli.exits import shown as _text
from shawgpt.cli.finetune_review import register_finetune, register_review
from shawgpt.cli.logs import register as register_logs
from shawgpt.cli.models import register as register_models
from shawgpt.cli.serve import register as register_serve
from shawgpt.cli.youtube import register as register_youtube
from shawgpt.config import load_settings
from shawgpt.errors import ShawGPTError

_log = logging.getLogger("shawgpt.cli")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Reply to comments in a creator's voice, grounded in the creator's articles.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@app.callback()
def main_options(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option(
        help="embedded | tiny | shawgpt | multilingual | openai")] = None,
    articles: Annotated[str | None, typer.Option(help="Articles folder.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Where the index lives.")] = None,
    embed_model: Annotated[str | None, typer.Option(help="Embedding model spec.")] = None,
    model: Annotated[str | None, typer.Option(
        help="Generator: a catalog name (qwen2.5-coder-1.5b), pypi:PKG, a .gguf, a hub id.")]
    = None,
    adapter: Annotated[str | None, typer.Option(help="LoRA adapter folder or hub id.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL.")] = None,
    cutoff: Annotated[float | None, typer.Option(help="Minimum cosine similarity.")] = None,
    top_k: Annotated[int | None, typer.Option(help="Chunks per reply, at most.")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="Longest reply.")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda")] = None,
    chroma_url: Annotated[str | None, typer.Option(help="Chroma server, e.g. localhost:8000.")]
    = None,
    voice_pairs: Annotated[str | None, typer.Option(
        help="CSV/JSONL of past comments and your replies: the closest go in as examples.")]
    = None,
    verbose: Annotated[int, typer.Option(
        "-v", "--verbose", count=True,
        help="Log what shawgpt does on stderr (-vv: more) and show libraries' warnings.")]
    = 0,
) -> None:
    """Reply to comments in a creator's voice, grounded in the creator's articles.

    Example: shawgpt reply "What is fat-tailedness?"
    """
    if not verbose:
        quiet_warnings()
    else:
        ctx.call_on_close(show_logs(verbose))
        _log.info("shawgpt %s: %s", __version__, ctx.invoked_subcommand)
    ctx.obj = {
        "profile": profile, "articles_dir": articles, "data_dir": data_dir,
        "embed_model": embed_model, "llm_model": model, "adapter": adapter,
        "base_url": base_url, "cutoff": cutoff, "top_k": top_k,
        "max_new_tokens": max_new_tokens, "device": device, "chroma_url": chroma_url,
        "voice_pairs": voice_pairs,
    }


def _parts(ctx: typer.Context, **more: Any) -> Any:
    from shawgpt.reply.wiring import build

    flags = {**(ctx.obj or {}), **{k: v for k, v in more.items() if v is not None}}
    return build(load_settings(flags))


@app.command()
@handled
def index(
    ctx: typer.Context,
    articles: Annotated[str | None, typer.Option(help="Articles folder.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild from scratch.")] = False,
) -> None:
    """Build or update the index from the articles folder.

    Example: shawgpt index --articles articles/
    """
    from shawgpt.reply.pipeline import run_index

    parts = _parts(ctx, articles_dir=articles)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # only when something is embedded: a no-op run prints no bar
            bar = typer.progressbar(length=total, label="Embedding chunks", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        report = run_index(parts, full=full, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    typer.echo(
        f"Indexed {report.indexed_files} files ({len(report.added)} added, "
        f"{len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed"
        f"{f', {len(report.kept)} kept from the last good version' if report.kept else ''}): "
        f"{report.pages} pages read, {report.chunks_embedded} chunks embedded, "
        f"{report.chunks_total} in the index, {report.seconds:.1f} s."
    )
    for name, reason in report.failed.items():
        typer.echo(f"  skipped {name}: {reason}")
    for name, reason in report.kept.items():
        typer.echo(f"  kept {name} from the last good version: {reason}")
    for name, note in report.notes.items():
        typer.echo(f"  note on {name}: {note}")
    if report.indexed_files == 0:
        raise ShawGPTError("nothing could be indexed")


def _sources_json(sources: list[Any]) -> list[dict[str, Any]]:
    return [{"file": s.file, "page": s.page, "score": s.score, "text": s.text} for s in sources]


def _read_comment(comment: str) -> str:
    return sys.stdin.read() if comment == "-" else comment


@app.command()
@handled
def reply(
    ctx: typer.Context,
    comment: Annotated[str, typer.Argument(help="The comment; - reads it from stdin.")],
    show_sources: Annotated[bool, typer.Option("--show-sources", help="List chunks used.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_context: Annotated[bool, typer.Option("--no-context", help="No retrieval.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Empty reply unless status is ok.")]
    = False,
) -> None:
    """Write a signed, checked reply to one comment (status ok, needs_review, error).

    Example: shawgpt reply "How do I spot fat tails in my data?" --show-sources
    """
    from shawgpt.reply.pipeline import reply_one

    parts = _parts(ctx, strict=strict or None)
    result = reply_one(parts, _read_comment(comment), _err, use_context=not no_context)
    if as_json:
        out = result.as_json()
        out["sources"] = _sources_json(result.sources)
        out["evidence"] = [e.as_json() for e in result.evidence]
        typer.echo(_json(out))
        return
    if result.reply:
        typer.echo(_text(result.reply))
    if result.status != "ok" and not show_sources:
        _err(f"status: {result.status} ({'; '.join(result.reasons)})")
    if show_sources:
        typer.echo(f"\nstatus: {result.status}")
        for reason in result.reasons:
            typer.echo(f"reason: {reason}")
        if not result.sources:
            typer.echo("sources: none passed the cutoff")
        for s in result.sources:
            page = f" p.{s.page}" if s.page else ""
            typer.echo(f"source: {s.file}{page} score {s.score:.3f}")
        for e in result.evidence:
            page = f" p.{e.page}" if e.page else ""
            typer.echo(_text(f"evidence: \"{e.claim}\" rests on \"{e.sentence}\" ({e.file}"
                             f"{page}; similarity {e.similarity:.2f}, relevance to the "
                             f"comment {e.relevance:.2f})"))


@app.command()
@handled
def retrieve(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The comment or query; - reads stdin.")],
    k: Annotated[int | None, typer.Option("-k", help="How many chunks, at most.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the chunks a reply would use, with scores; no generation.

    Example: shawgpt retrieve "what is kurtosis" -k 5
    """
    from shawgpt.reply.pipeline import find_sources, gate_reason

    parts = _parts(ctx, top_k=k)
    text = _read_comment(query)
    sources = find_sources(parts, [text], _err)[0]
    if as_json:
        typer.echo(_json({"query": text, "sources": _sources_json(sources)}))
        return
    if not sources:
        reason = gate_reason(parts, text)
        typer.echo(f"No context: the gate reads this comment as {reason}, which needs none."
                   if reason else
                   f"No chunk scored at or above the cutoff {parts.settings.cutoff}.")
    for s in sources:
        page = f" p.{s.page}" if s.page else ""
        typer.echo(_text(f"[{s.score:.3f}] {s.file}{page}\n    {s.text[:300]!s}\n"))


@app.command()
@handled
def batch(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="CSV or JSONL (.jsonl) of comments.")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Output (.csv, or .jsonl); default IN-replies.csv.")] = None,
    column: Annotated[str | None, typer.Option(help="Name of the comment column.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Encoding of IN (default: detected; utf-8, utf-16, cp1252, ...).")] = None,
    excel: Annotated[bool, typer.Option("--excel", help="Write UTF-8 with a BOM.")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="Discard an interrupted run's journal and start over.")] = False,
    max_chars: Annotated[int | None, typer.Option(
        help="Truncate comments longer than this (flagged needs_review); 0: no cap.")] = None,
    include_answered: Annotated[bool, typer.Option(
        "--include-answered", help="Reply to comments already approved or skipped forever "
        "in review, too.")] = False,
) -> None:
    """Reply to every comment in a CSV or JSONL file; resumes after a crash or Ctrl-C.

    Results go to OUT.journal.jsonl as they are made; OUT is written when every row has a
    reply. Run the same command again to resume; --restart starts over.

    Example: shawgpt batch comments.csv -o replies.csv
    """
    import os

    from shawgpt.batch.eta import Eta, format_eta
    from shawgpt.batch.inputs import check_out, default_out, load_comments
    from shawgpt.batch.runner import run_batch

    # torch's OpenMP threads spin while they wait; on a shared CPU that measured 2-10x slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch loads, just below
    if max_chars is not None and max_chars < 0:
        raise typer.BadParameter("must be 0 (no cap) or more", param_hint="--max-chars")
    parts = _parts(ctx, max_comment_chars=max_chars)
    table = load_comments(src, column, encoding)
    for note in table.notes:
        _err(f"Warning: {note}.")
    out = out or default_out(src, table)
    check_out(out)  # before the progress bar and the first reply
    eta = Eta()
    with typer.progressbar(length=len(table.rows), label="Replying", file=sys.stderr,
                           show_eta=False, item_show_func=lambda x: x) as bar:
        def progress(done: int, total: int, settled: int) -> None:
            bar.current_item = format_eta(eta.update(done, total, settled))  # item_show_func
            bar.update(done - bar.pos)

        report = run_batch(parts, table, src, out, _err, restart=restart, excel=excel,
                           progress=progress, include_answered=include_answered)
    if report.interrupted:
        _err(report.summary()[0])
        raise typer.Exit(130)
    for line in report.summary():
        typer.echo(line)


@app.command("eval")
@handled
def eval_labels(
    ctx: typer.Context,
    labels: Annotated[Path, typer.Argument(help='JSON lines {"comment", "sources"}.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure the retrieval and gate that reply uses: hit@k, MRR, gate accuracy.

    One {"comment": "...", "sources": ["part of a file name"]} per line; [] = no context.

    Example: shawgpt eval labels.jsonl --json
    """
    from shawgpt.reply.pipeline import evaluate
    from shawgpt.retrieval.evaluate import read_labels

    parts = _parts(ctx)
    report = evaluate(parts, read_labels(labels), _err)
    if as_json:
        typer.echo(_json(report.as_json()))
        return
    s, k = report.summary(), report.k
    cfg = s["settings"]
    typer.echo(
        f"{s['comments']} comments: {s['questions']} expect sources, {s['none']} expect "
        f"none (hybrid {cfg['hybrid']}, rerank {cfg['rerank']}, gate {cfg['gate']}, "
        f"cutoff {cfg['cutoff']}, top {k})"
    )
    typer.echo(f"hit@1 {s['hit@1']:.3f}  hit@{k} {s[f'hit@{k}']:.3f}  MRR {s['mrr']:.3f}  "
               f"(questions given context: {s['questions_with_context']:.3f})")
    typer.echo(f"gate accuracy {s['gate_accuracy']:.3f} (expected none and got none)")
    for item in report.items:
        if not item.hit:
            want = ", ".join(item.expected) or "none"
            got = ", ".join(dict.fromkeys(item.retrieved)) or "none"
            typer.echo(f"  miss: expected {want}; got {got}: {item.comment[:70]!r}")


@app.command()
@handled
def info(ctx: typer.Context) -> None:
    """Show the settings in effect, where each came from, the models and the index.

    Example: shawgpt info
    """
    from shawgpt.cli.info import describe

    typer.echo(describe(_parts(ctx)))


register_review(app)
register_finetune(app)
register_youtube(app)
register_logs(app)
register_models(app)
register_serve(app)


def main() -> None:
    """The console entry (exits.run_and_exit)."""
    run_and_exit(app)
