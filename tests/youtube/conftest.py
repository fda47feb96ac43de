"""Fixtures for the YouTube tests: the loopback fake API, settings pointed at it, sign-in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_api import FakeYouTube


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Iterator[FakeYouTube]:
    """The fake API, and every setting pointed at it; no test reaches the internet."""
    server = FakeYouTube().start()
    monkeypatch.setenv("SHAWGPT_YOUTUBE_API_ENDPOINT", server.url)
    monkeypatch.setenv("SHAWGPT_YOUTUBE_TOKEN_URI", server.url + "token")
    monkeypatch.setenv("SHAWGPT_POST_DELAY_MIN", "0")
    monkeypatch.setenv("SHAWGPT_POST_DELAY_MAX", "0")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated / "config"))
    try:
        yield server
    finally:
        server.stop()


def token_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "shawgpt" / "youtube-token.json"


def sign_in(fake: FakeYouTube, token: str = "token-1") -> Path:
    """A saved token as `shawgpt auth youtube` leaves it, valid for a long while."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "token": token, "refresh_token": "refresh-1", "token_uri": "https://attacker.invalid/token",
        "client_id": "client-1", "client_secret": "secret-1",
        "scopes": ["https://www.googleapis.com/auth/youtube.force-ssl"],
        "expiry": "2099-01-01T00:00:00Z"}))
    path.chmod(0o600)
    return path
