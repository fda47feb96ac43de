"""Auth: sign in to YouTube (OAuth 2.0 installed-app flow) and keep the token safe.

`sign_in` runs google-auth-oauthlib's InstalledAppFlow with the `youtube.force-ssl` scope
(read and post comments) on a loopback redirect, and stores the token, with its refresh
token, in `$XDG_CONFIG_HOME/shawgpt/youtube-token.json` (`~/.config/...`), readable by the
user only (0600). google-auth refreshes an expired access token on use; `save_if_refreshed`
writes the new one back. `logout` deletes the file. It leaves the API calls to client.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from shawgpt.config.files import atomic_write
from shawgpt.errors import ShawGPTError

SCOPES = ["https://www.googleapis.com/auth/youtube.force-ssl"]


def token_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shawgpt" / "youtube-token.json"


def load_credentials(token_uri: str) -> Any:
    """The saved credentials, refreshed at `token_uri` when they expire; None when not
    signed in; a damaged file is an error."""
    from google.oauth2.credentials import Credentials

    path = token_path()
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        creds = Credentials.from_authorized_user_info(info, SCOPES).with_token_uri(token_uri)
    except (OSError, ValueError, KeyError) as exc:
        raise ShawGPTError(f"the YouTube token {path} is unreadable ({exc.__class__.__name__});"
                           f" run `shawgpt auth youtube --logout`, then sign in again") from None
    return creds


def save(creds: Any) -> Path:
    """Write the token file, 0600 from the first byte (never briefly world-readable)."""
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, creds.to_json(), perm=0o600)
    return path


def save_if_refreshed(creds: Any, saved_token: str | None) -> None:
    """google-auth refreshed the access token in memory during the run: keep the new one."""
    if creds is not None and creds.token and creds.token != saved_token:
        save(creds)


def sign_in(client_secrets: Path, open_browser: bool = True) -> Path:
    """The browser consent flow; returns where the token was saved."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    if not client_secrets.is_file():
        raise ShawGPTError(
            f"no OAuth client file {client_secrets}: create an OAuth client ID of type "
            f"'Desktop app' in the Google Cloud console, download its JSON and pass "
            f"--client-secrets PATH (setting youtube_client_secrets)")
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=SCOPES)
    except ValueError as exc:
        raise ShawGPTError(f"{client_secrets} is not an OAuth client file ({exc})") from None
    creds = flow.run_local_server(
        host="127.0.0.1", port=0, open_browser=open_browser,
        authorization_prompt_message="Open this address to sign in to YouTube: {url}",
        success_message="Signed in to shawgpt; you can close this tab.")
    return save(creds)


def logout() -> Path | None:
    """Delete the token; the path removed, or None when there was none."""
    path = token_path()
    if not path.is_file():
        return None
    path.unlink()
    return path
