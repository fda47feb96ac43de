"""The whole loop on the loopback fake of the YouTube Data API: fetch, batch, review, post.

Starts tests/youtube/fake_api.py's server with a small made-up channel (two videos, six
comment threads, one already answered by the creator in YouTube Studio), signs in the way
`shawgpt auth youtube` leaves a token, then runs the real `shawgpt` commands one after the
other in a temporary folder and prints each command, its output and the quota ledger after
it: fetch, batch (the real default models on the bundled articles/), review (below), post
as a dry run, post --apply, post --apply again (nothing twice), and fetch again (the
answered threads are left out). Nothing reaches the internet.

The review step is `review --approve-ok --export approved.csv` (no screen: every `ok`
reply approved, as a creator who trusts the checks would); on a checkout without `review`
the script writes the same file from batch's output (the rows with status `ok`) and says
so. Left out: the review screen itself, and a real channel.

Usage (from the repo root):
    .venv/bin/python tools/youtube_walkthrough.py
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "youtube"))
from fake_api import OWNER, FakeYouTube, Thread  # noqa: E402

SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))
THREADS = [
    Thread("Ugw1", "vidFat", "UCana", "How can I tell if my data has fat tails?",
           "2026-11-30T18:00:00Z", likes=12),
    Thread("Ugw2", "vidFat", "UCben", "Thanks, this was super clear!", "2026-11-30T12:00:00Z"),
    Thread("Ugw3", "vidWav", "UCcai", "Which mother wavelet should I start with?",
           "2026-11-29T09:00:00Z", likes=3),
    Thread("Ugw4", "vidWav", "UCdee", "Great explanation of the wavelet transform",
           "2026-11-28T09:00:00Z", replies=[(OWNER, "Glad it helped!")]),
    Thread("Ugw5", "vidFat", "UCeli", "Is kurtosis enough to detect heavy tails?",
           "2026-11-27T09:00:00Z"),
    Thread("Ugw6", "vidWav", "UCfin", "What does LoRA have to do with wavelets?",
           "2026-11-26T09:00:00Z"),
]


def main() -> int:
    fake = FakeYouTube()
    fake.threads = list(THREADS)
    fake.titles = {"vidFat": "4 Ways to Quantify Fat Tails", "vidWav": "The Wavelet Transform"}
    fake.start()
    with tempfile.TemporaryDirectory(prefix="shawgpt-youtube-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config"),
               "SHAWGPT_YOUTUBE_API_ENDPOINT": fake.url,
               "SHAWGPT_YOUTUBE_TOKEN_URI": fake.url + "token",
               "SHAWGPT_ARTICLES_DIR": str(ROOT / "articles"),
               "SHAWGPT_POST_DELAY_MIN": "0.5", "SHAWGPT_POST_DELAY_MAX": "1.5"}
        token = work / "config" / "shawgpt" / "youtube-token.json"
        token.parent.mkdir(parents=True)
        token.write_text(json.dumps({  # what `shawgpt auth youtube` saves after consent
            "token": "token-1", "refresh_token": "refresh-1", "client_id": "c",
            "client_secret": "s", "scopes": ["https://www.googleapis.com/auth/youtube.force-ssl"],
            "expiry": "2099-01-01T00:00:00Z"}))
        token.chmod(0o600)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            print(f"\n$ shawgpt {' '.join(args)}")
            done = subprocess.run([SHAWGPT, *args], cwd=work, env=env, capture_output=True,
                                  text=True, timeout=900)
            for line in (done.stderr + done.stdout).splitlines():
                if not line.startswith("Replying"):  # the progress bar
                    print(f"  {line}")
            print(f"  [exit {done.returncode}; {ledger(work)}]")
            return done

        run("fetch", "--channel", OWNER, "-o", "comments.csv")
        run("batch", "comments.csv", "-o", "replies.csv")
        approved = work / "approved.csv"
        review = subprocess.run([SHAWGPT, "review", "--help"], cwd=work, env=env,
                                capture_output=True, text=True, timeout=60)
        if review.returncode == 0 and "--approve-ok" in review.stdout:
            run("review", "replies.csv", "--approve-ok", "--export", str(approved))
        else:
            print("  (`shawgpt review` is not installed here: approving the rows with status "
                  "ok by hand, as its export would)")
            with (work / "replies.csv").open(newline="", encoding="utf-8") as fh:
                rows = [r for r in csv.DictReader(fh) if r["status"] == "ok"]
            with approved.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["comment_id"])
                writer.writeheader()
                writer.writerows(rows)
            print(f"  approved {len(rows)} replies into approved.csv")
        run("post", "approved.csv")
        run("post", "approved.csv", "--apply")
        run("post", "approved.csv", "--apply")
        run("fetch", "--channel", OWNER, "-o", "comments-2.csv")
        print(f"\nOn the fake channel: {len(fake.posted)} replies posted, each under its "
              f"comment once: {sorted(p['parentId'] for p in fake.posted)}")
    fake.stop()
    return 0


def ledger(work: Path) -> str:
    path = work / ".shawgpt" / "youtube-quota.json"
    if not path.is_file():
        return "quota: 0 units spent today"
    data = json.loads(path.read_text())
    return f"quota: {data['spent']} units spent today {data['calls']}"


if __name__ == "__main__":
    raise SystemExit(main())
