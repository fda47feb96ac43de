"""Does a `shawgpt finetune` adapter sound more like the creator? Four ways, one table.

On the adapter's held-out pairs (the validation rows its manifest names), replies are made
the way `batch` makes them (pipeline.reply_to: screen, gate, retrieval, batched generation,
guard) four ways: the base model; the base with voice examples (`voice_pairs`: the closest
of the creator's past replies in the prompt, drawn from the adapter's training rows only,
so no held-out reply is shown); the adapter; the adapter with the same examples. Each is
compared with the creator's real replies:

- validation loss before and after (from the manifest);
- median reply length in words, against the real replies';
- for thanks and praise (the gate's "thanks"): the share of replies of at most 30 words,
  and their median length against the real replies to the same comments;
- the share that end in the creator's habits, read from his real replies: a closing ":)"
  or emoji, or a last sentence with "hope that/this helps", "glad" or "thanks";
- sentence-embedding cosine similarity to the real reply (the index's embedder);
- the guard's statuses; and three examples side by side.

Run it from a folder with the index of the creator's articles (`shawgpt index`), after
`shawgpt finetune PAIRS --name NAME`:

    python evals/voice/eval_voice.py --adapter NAME [--pairs YT-comments.csv] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

SHARED = ROOT.parent / "shared" / "data" / "youtube-blog" / "YT-comments.csv"
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]\\W*$")
_HABIT = re.compile(r"hope (that|this|it) (helps|clears)|glad|thanks|thank you", re.I)


def words(text: str) -> int:
    return len(text.split())


def habit(text: str) -> bool:
    text = text.strip()
    if text.endswith((":)", ":D", ";)")) or _EMOJI.search(text):
        return True
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    return bool(sentences) and bool(_HABIT.search(sentences[-1]))


def body(reply: str, signature: str) -> str:
    from shawgpt.tables.pairs import strip_signature

    return strip_signature(reply, signature)


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = sum(x * x for x in a) ** 0.5, sum(y * y for y in b) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def measure(replies: list[str], real: list[str], thanks: list[bool], embedder: object,
            statuses: list[str]) -> dict[str, object]:
    vec = embedder.embed_texts(replies + real)  # type: ignore[attr-defined]
    n = len(replies)
    sims = [cosine(vec[i], vec[n + i]) for i in range(n)]
    t = [i for i in range(n) if thanks[i]]
    return {
        "median_words": statistics.median(map(words, replies)),
        "thanks_replies": len(t),
        "thanks_median_words": statistics.median(words(replies[i]) for i in t) if t else 0,
        "thanks_at_most_30_words": sum(words(replies[i]) <= 30 for i in t) / len(t) if t else 0,
        "habit_endings": sum(map(habit, replies)) / n,
        "similarity_to_real": statistics.mean(sims),
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default="voice")
    ap.add_argument("--pairs", type=Path, default=SHARED)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from shawgpt.config import load_settings
    from shawgpt.models.adapters import read_manifest, resolve_adapter
    from shawgpt.reply.pipeline import gate_reason, reply_to
    from shawgpt.reply.wiring import build
    from shawgpt.tables.pairs import read_pairs

    # both on the backend `batch` uses (the local engine runs the adapter too)
    tuned = build(load_settings({"adapter": args.adapter}))
    folder = resolve_adapter(tuned.settings)
    manifest = read_manifest(Path(folder)) if isinstance(folder, Path) else None
    if manifest is None:
        sys.exit(f"{args.adapter}: not an adapter made by shawgpt finetune")
    base = build(load_settings({}))
    sig = base.settings.signature
    pairs = read_pairs(args.pairs, sig)
    rows = set(manifest["data"]["validation_rows"])
    held = [i for i, r in enumerate(pairs.rows) if r in rows]
    trained = Path(tempfile.mkdtemp()) / "training-pairs.csv"  # the examples' pool
    with trained.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Comment", "Response"])
        w.writerows((pairs.comments[i], pairs.replies[i]) for i in range(len(pairs.rows))
                    if i not in set(held))
    comments = [pairs.comments[i] for i in held]
    real = [pairs.replies[i] for i in held]
    thanks = [gate_reason(base, c) == "thanks" for c in comments]
    context = bool(manifest.get("context", True))

    made = {}
    ways = (("base", base), ("base + examples", build(load_settings(
        {"voice_pairs": str(trained)}))), ("adapter", tuned), ("adapter + examples", build(
            load_settings({"adapter": args.adapter, "voice_pairs": str(trained)}))))
    for label, parts in ways:
        out = reply_to(parts, comments, lambda _m: None, use_context=context)
        made[label] = ([body(r.reply, sig) for r in out], [r.status for r in out])
        del parts  # one model loaded at a time
    emb = base.embedder
    report = {
        "adapter_name": args.adapter, "held_out": len(held), "context": context,
        "validation_loss": {"base": manifest["losses"]["validation_before"],
                            "adapter": manifest["losses"]["validation_after"]},
        "training": manifest.get("training"),
        "real": {"median_words": statistics.median(map(words, real)),
                 "thanks_median_words": statistics.median(
                     words(real[i]) for i in range(len(real)) if thanks[i]) if any(thanks)
                 else 0,
                 "habit_endings": sum(map(habit, real)) / len(real)},
        **{label: measure(m[0], real, thanks, emb, m[1]) for label, m in made.items()},
    }
    print_table(report)
    shown = sorted(range(len(held)), key=lambda i: (not thanks[i], i))
    examples = [shown[0], shown[-1], shown[len(shown) // 2]]  # praise, question, between
    for i in dict.fromkeys(examples):
        print(f"\n> {comments[i][:300]}\n  real: {real[i]}")
        for label, m in made.items():
            print(f"  {label}: {m[0][i]}")
    report["replies"] = [{"comment": c, "real": r, **{label: m[0][k] for label, m in
                                                       made.items()}}
                         for k, (c, r) in enumerate(zip(comments, real, strict=True))]
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


def print_table(r: dict) -> None:  # type: ignore[type-arg]
    ways = ("base", "base + examples", "adapter", "adapter + examples")
    real, loss = r["real"], r["validation_loss"]
    rows = [
        ("validation loss", f"{loss['base']:.3f}", "", f"{loss['adapter']:.3f}", "", ""),
        ("median words", *(r[w]["median_words"] for w in ways), real["median_words"]),
        (f"thanks/praise ({r['base']['thanks_replies']}): median words",
         *(r[w]["thanks_median_words"] for w in ways), real["thanks_median_words"]),
        ("thanks/praise: share <= 30 words",
         *(f"{r[w]['thanks_at_most_30_words']:.2f}" for w in ways), ""),
        ("ends in his habits", *(f"{r[w]['habit_endings']:.2f}" for w in ways),
         f"{real['habit_endings']:.2f}"),
        ("similarity to the real reply", *(f"{r[w]['similarity_to_real']:.3f}" for w in ways),
         "1"),
        ("guard statuses", *(r[w]["statuses"] for w in ways), ""),
    ]
    print(f"{r['held_out']} held-out pairs, context {r['context']}\n")
    print("| measure | " + " | ".join(ways) + " | real replies |\n|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(x) for x in row) + " |")


if __name__ == "__main__":
    main()
