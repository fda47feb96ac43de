"""The answer adapter's experiment: train on 8 of the 12 articles, test on the other 4.

    .venv/bin/python evals/answers/raft.py build --data-dir /tmp/i37/data --out /tmp/raft/train.csv
    .venv/bin/shawgpt --data-dir /tmp/i37/data finetune /tmp/raft/train.csv --name answers
    .venv/bin/python evals/answers/eval_answers.py generate --id-file /tmp/raft/test_ids.txt \\
        --out /tmp/raft/gen_adapter.jsonl --set adapter=answers

Split (`split`): a question belongs to the article of its gold and partial sentences
(gold.jsonl, through the sentence inventory); the 4 test articles are fixed below (one each on
statistics, signals, causality and LLMs, with both halves represented); an unanswerable
question has no article and goes to test when the sha256 of its id is 0 mod 3. `build`
writes the training pairs of the 8 training articles: the answers written by reading
(raft_answers.jsonl: for each training question, the reply the creator would post, built on
its gold sentences, or an honest deferral) and the questions the model writes for the
articles' sentences that survive the round trip (voice/answers.py, as `finetune --answers`).
The test ids go to a file beside --out for `eval_answers.py generate --id-file`.

It leaves out labelling (by reading, answer_labels.jsonl) and scoring (eval_answers.py).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from eval_answers import load_gold, parts_for, questions  # noqa: E402
from inventory import inventory  # noqa: E402

TEST_ARTICLES = ("4 Ways to Quantify Fat Tails", "Causal Discovery", "How to Build an LLM",
                 "The Wavelet Transform")
WRITTEN = HERE / "raft_answers.jsonl"
PER_FILE = 16  # sentences of each training article that get a question


def split(data_dir: Path) -> dict[str, str]:
    """Each English question's side: "train" or "test"."""
    file_of = {r["sha"]: Path(r["file"]).name for r in inventory(data_dir)}
    gold = load_gold(False)
    side = {}
    for q in questions(False):
        g = gold[q["id"]]
        files = Counter(file_of[s] for s in g["gold"] + g["partial"] if s in file_of)
        if files:
            test = files.most_common(1)[0][0].startswith(TEST_ARTICLES)
        else:
            test = int(hashlib.sha256(q["id"].encode()).hexdigest(), 16) % 3 == 0
        side[q["id"]] = "test" if test else "train"
    return side


def build(args: argparse.Namespace) -> None:
    from shawgpt.index.store import open_index
    from shawgpt.voice.answers import round_trip
    from shawgpt.voice.questions import ask, pick

    side = split(args.data_dir)
    text = {q["id"]: q["text"] for q in questions(False)}
    written = [json.loads(x) for x in WRITTEN.read_text(encoding="utf-8").splitlines()]
    assert all(side[w["id"]] == "train" for w in written), "a test question was written"
    parts = parts_for(args.data_dir)
    index = open_index(args.data_dir / "index")
    snap = index.snapshot() if index else None
    assert snap is not None, f"no index under {args.data_dir}"
    keep = [i for i, f in enumerate(snap["files"]) if not Path(f).name.startswith(TEST_ARTICLES)]
    picked = pick([snap["files"][i] for i in keep], [snap["texts"][i] for i in keep], PER_FILE)
    asked = ask(parts.generator, picked, parts.prompts_dir)
    kept = round_trip(parts, asked)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Question", "Answer"])
        w.writerows([text[x["id"]], x["answer"]] for x in written)
        w.writerows([a.question, a.answer] for a in kept)
    ids = args.out.with_name("test_ids.txt")
    ids.write_text("".join(f"{i}\n" for i, s in side.items() if s == "test"), encoding="utf-8")
    print(f"{len(written)} written + {len(kept)} generated ({len(picked)} sentences, "
          f"{sum(1 for a in asked if a.question)} usable questions) -> {args.out}; "
          f"{sum(s == 'test' for s in side.values())} test ids -> {ids}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/i37/data"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("split", help="print how many questions each side holds")
    b = sub.add_parser("build", help="write the training pairs and the test ids")
    b.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.cmd == "split":
        gold, side = load_gold(False), split(args.data_dir)
        for s in ("train", "test"):
            ids = [i for i, v in side.items() if v == s]
            print(s, len(ids), "questions,", sum(gold[i]["answerable"] for i in ids),
                  "answerable")
    else:
        build(args)


if __name__ == "__main__":
    main()
