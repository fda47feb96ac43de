"""Sign-in and sign-out on the real OAuth flow against the fake token endpoint, the quota
ledger's Pacific day, and what `info` says about YouTube."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_api import FakeYouTube
from typer.testing import CliRunner

from conftest import sign_in, token_file
from shawgpt.cli.commands import app
from shawgpt.youtube.quota import PACIFIC, Ledger, QuotaExhausted, pacific_day, resets_in

runner = CliRunner()
SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))


def test_sign_in_saves_a_0600_token_and_logout_removes_it(fake: FakeYouTube,
                                                          isolated: Path) -> None:
    secrets = isolated / "client_secret.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "client-1", "client_secret": "secret-1", "redirect_uris": ["http://localhost"],
        "auth_uri": "https://accounts.invalid/auth", "token_uri": fake.url + "token"}}))
    # requests-oauthlib refuses plain http unless told; only the fake token endpoint is http
    env = {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"}
    proc = subprocess.Popen([SHAWGPT, "auth", "youtube", "--no-browser", "--client-secrets",
                             str(secrets)], env=env, cwd=isolated, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the address a person would open
        assert line.startswith("Open this address to sign in to YouTube: "), \
            line + proc.communicate(timeout=30)[1]
        query = parse_qs(urlsplit(line.split(": ", 1)[1].strip()).query)
        assert query["scope"] == ["https://www.googleapis.com/auth/youtube.force-ssl"]
        # the browser, after consent, comes back to the loopback redirect with a code
        back = f"{query['redirect_uri'][0]}?state={query['state'][0]}&code=the-code"
        with urllib.request.urlopen(back, timeout=30) as page:
            assert b"Signed in to shawgpt" in page.read()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    path = token_file()
    assert out.strip() == f"Signed in; token saved to {path} (readable by you only)."
    assert path.stat().st_mode & 0o777 == 0o600
    saved = json.loads(path.read_text())
    assert (saved["token"], saved["refresh_token"]) == ("token-1", "refresh-1")

    result = runner.invoke(app, ["auth", "youtube", "--logout"])
    assert (result.exit_code, result.stdout) == (0, f"Signed out: removed {path}\n")
    assert not path.exists()
    result = runner.invoke(app, ["auth", "youtube", "--logout"])
    assert (result.exit_code, result.stdout) == (0, "Not signed in.\n")


def test_sign_in_without_a_client_file_is_one_line(fake: FakeYouTube) -> None:
    result = runner.invoke(app, ["auth", "youtube"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no OAuth client file client_secret.json: create an OAuth client ID of type "
        "'Desktop app' in the Google Cloud console, download its JSON and pass "
        "--client-secrets PATH (setting youtube_client_secrets)\n")


def test_a_damaged_token_file_is_one_line(fake: FakeYouTube, isolated: Path) -> None:
    path = sign_in(fake)
    path.write_text("{not json")
    result = runner.invoke(app, ["fetch", "--channel", "UCowner"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: the YouTube token {path} is unreadable (JSONDecodeError); run `shawgpt auth "
        f"youtube --logout`, then sign in again")


def test_the_quota_day_is_the_pacific_day(isolated: Path) -> None:
    # 07:59 UTC on 2 December is 23:59 on 1 December in Los Angeles (PST, UTC-8)
    assert pacific_day(datetime.fromisoformat("2026-12-02T07:59:00+00:00")) == "2026-12-01"
    assert pacific_day(datetime.fromisoformat("2026-12-02T08:00:00+00:00")) == "2026-12-02"
    late = datetime(2026, 12, 1, 23, 30, tzinfo=PACIFIC)
    assert resets_in(late) == "at midnight Pacific (in 0 h 30 min)"
    ledger = Ledger.of(isolated, budget=100)
    ledger.path.write_text(json.dumps({"day": "2000-01-01", "spent": 99, "calls": {}}))
    assert ledger.spent() == 0  # yesterday's spending does not count today
    ledger.charge("comments.insert")
    ledger.charge("commentThreads.list")
    assert (ledger.spent(), ledger.left()) == (51, 49)
    ledger.charge("comments.list")
    ledger.check("comments.list")  # 48 left
    with pytest.raises(QuotaExhausted, match=r"\(52 of 100 units today; comments.insert "
                                             r"costs 50\); it resets at midnight Pacific"):
        ledger.check("comments.insert")
    assert json.loads(ledger.path.read_text())["calls"] == {
        "comments.insert": 1, "commentThreads.list": 1, "comments.list": 1}


def test_info_shows_the_quota_and_never_the_key(fake: FakeYouTube, isolated: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAWGPT_YOUTUBE_API_KEY", "AIza-very-secret")
    Ledger.of(isolated / ".shawgpt", 10000).charge("comments.insert")
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "AIza-very-secret" not in result.output
    assert "  youtube_api_key = '(set, not shown)'  (env)" in result.stdout
    assert "  YouTube quota: 50 of 10000 units spent today, 9950 left (resets at midnight " \
           "Pacific (in " in result.stdout
    assert "  signed in: no; API key: set" in result.stdout
