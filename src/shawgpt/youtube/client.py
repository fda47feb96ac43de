"""Client: the Data API client and one way to make a call (budget, ledger, errors).

`connect` builds google-api-python-client's youtube v3 client from the discovery document
bundled in the package (no network to build it), at the `youtube_api_endpoint` setting,
with an API key (reading public comments) or OAuth credentials (auth.py; refreshed on
expiry or a 401 by google-auth). `Api.call` checks the ledger, executes, charges the ledger
and turns an HttpError into a YouTubeError with the API's reason (`commentTextTooLong`,
`quotaExceeded`, ...) and a readable explanation. It leaves what to call to fetch.py and
post.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shawgpt.config import Settings
from shawgpt.errors import ShawGPTError
from shawgpt.youtube.quota import Ledger, QuotaExhausted

TIMEOUT_S = 30
# What each API reason means to the creator; the reason itself is always shown too.
EXPLAINED = {
    "commentTextTooLong": "the reply is longer than YouTube accepts",
    "parentCommentIsPrivate": "the comment is private now, replies are not allowed",
    "operationNotSupported": "YouTube does not allow a reply to this comment",
    "commentNotFound": "the comment no longer exists",
    "forbidden": "this account may not reply here (comments off, or not the channel's owner)",
    "quotaExceeded": "the project's daily quota is exhausted",
    "authError": "the sign-in was refused; run `shawgpt auth youtube` again",
    "invalid_grant": "the sign-in expired (a 'Testing' app's refresh token lasts 7 days); "
                     "run `shawgpt auth youtube` again",
    "keyInvalid": "the API key is not valid",
    "videoNotFound": "no such video",
    "channelNotFound": "no such channel",
    "commentsDisabled": "comments are turned off for this video",
}


class YouTubeError(ShawGPTError):
    """A call the API refused; `reason` is the API's own word for why, `status` its HTTP code."""

    def __init__(self, message: str, reason: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.reason, self.status = reason, status


class SignInExpired(YouTubeError):
    """The OAuth token could not be refreshed: no call can succeed until `auth youtube`."""


@dataclass
class Api:
    service: Any
    ledger: Ledger
    endpoint: str
    credentials: Any = None  # OAuth credentials when signed in
    saved_token: str | None = None  # the access token as loaded, to spot a refreshed one
    spent: dict[str, int] = field(default_factory=dict)  # units this run, by method

    def call(self, method: str, request: Any) -> dict[str, Any]:
        """Execute one request (`method` is e.g. "comments.insert"); errors as YouTubeError."""
        from googleapiclient.errors import HttpError

        self.ledger.check(method)
        try:
            # no retries: a retried comments.insert could post twice
            response = request.execute(num_retries=0)
        except HttpError as exc:
            self._charge(method)
            raise _translate(exc, method) from None
        except Exception as exc:
            import httplib2
            from google.auth.exceptions import RefreshError, TransportError

            if isinstance(exc, RefreshError):
                said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc
                raise SignInExpired(f"{method}: {EXPLAINED['invalid_grant']} "
                                    f"({_one_line(said)})", "invalid_grant", 401) from None
            if isinstance(exc, OSError | httplib2.HttpLib2Error | TransportError):
                # refused, timed out, no such host: no answer, so nothing is charged
                raise YouTubeError(f"{method}: cannot reach the YouTube API at "
                                   f"{self.endpoint} ({exc.__class__.__name__}: "
                                   f"{_one_line(exc)})", "network") from None
            raise
        self._charge(method)
        return dict(response or {})

    def _charge(self, method: str) -> None:
        from shawgpt.youtube.quota import COSTS

        self.ledger.charge(method)
        self.spent[method] = self.spent.get(method, 0) + COSTS[method]

    def close(self) -> None:
        """Keep a token google-auth refreshed during the run, so the next run starts valid."""
        from shawgpt.youtube.auth import save_if_refreshed

        save_if_refreshed(self.credentials, self.saved_token)

    @property
    def units(self) -> int:
        return sum(self.spent.values())


def _one_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"


def _translate(exc: Any, method: str) -> YouTubeError:
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason, message = "", ""
    try:
        body = json.loads(exc.content.decode("utf-8"))["error"]
        message = str(body.get("message", ""))
        errors = body.get("errors") or [{}]
        reason = str(errors[0].get("reason", ""))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        pass
    if not reason and status == 401:
        reason = "authError"
    why = EXPLAINED.get(reason) or message or f"HTTP {status}"
    text = f"{method}: {why} ({reason or status})"
    if reason in ("quotaExceeded", "dailyLimitExceeded"):
        return QuotaExhaustedByServer(text, reason, status)
    if status == 401:
        return SignInExpired(text, reason, status)
    return YouTubeError(text, reason, status)


class QuotaExhaustedByServer(YouTubeError, QuotaExhausted):
    """403 quotaExceeded: the server's count, which the local ledger could not see."""


def connect(settings: Settings, ledger: Ledger, need_sign_in: bool = False) -> Api:
    """The API client: OAuth when signed in (required to post), else the API key."""
    import httplib2
    from googleapiclient.discovery import build

    from shawgpt.youtube.auth import load_credentials

    endpoint = settings.youtube_api_endpoint
    credentials = load_credentials(settings.youtube_token_uri)
    options = {"api_endpoint": endpoint}
    if credentials is not None and (need_sign_in or not settings.youtube_api_key):
        import google_auth_httplib2

        http = google_auth_httplib2.AuthorizedHttp(credentials,
                                                   http=httplib2.Http(timeout=TIMEOUT_S))
        service = build("youtube", "v3", http=http, static_discovery=True,
                        client_options=options, cache_discovery=False)
        return Api(service, ledger, endpoint, credentials, credentials.token)
    if need_sign_in:
        raise ShawGPTError("posting needs sign-in (an API key can only read): run "
                           "`shawgpt auth youtube`")
    if not settings.youtube_api_key:
        raise ShawGPTError("no YouTube access: set the youtube_api_key setting "
                           "(SHAWGPT_YOUTUBE_API_KEY) or run `shawgpt auth youtube`")
    service = build("youtube", "v3", http=httplib2.Http(timeout=TIMEOUT_S),
                    developerKey=settings.youtube_api_key, static_discovery=True,
                    client_options=options, cache_discovery=False)
    return Api(service, ledger, endpoint)
