"""A loopback stand-in for the YouTube Data API, for the calls shawgpt makes.

Serves commentThreads.list (pages of `page_size` with nextPageToken, the first
`shown_replies` replies inline as the real API does), comments.list (a thread's replies),
videos.list (titles), comments.insert (with a chosen failure per parent comment, a 403
quotaExceeded after N posts, and a post that blocks once stored, for kill -9 tests) and
the OAuth token endpoint (refresh, and code exchange for the sign-in flow). Requests need
`?key=` or a bearer token it issued; an expired token gets 401. Bound to 127.0.0.1 on a
free port, handler threads are daemons and every wait is bounded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

OWNER = "UCowner"
API_KEY = "test-key"


@dataclass
class Thread:
    id: str
    video: str
    author: str  # channel id of the author
    text: str
    published: str = "2026-11-20T10:00:00Z"
    likes: int = 0
    replies: list[tuple[str, str]] = field(default_factory=list)  # (author channel, text)
    can_reply: bool = True


class FakeYouTube(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.threads: list[Thread] = []  # newest first, as order=time gives them
        self.titles: dict[str, str] = {}
        self.comments_off: set[str] = set()  # videos whose comments are turned off
        self.page_size = 2
        self.shown_replies = 1
        self.posted: list[dict[str, str]] = []  # every reply inserted: parentId, text, id
        self.fail_parent: dict[str, tuple[int, str]] = {}  # parentId -> (status, reason)
        self.quota_after: int | None = None  # inserts before the 403 quotaExceeded
        self.block_at: int | None = None  # this insert (1-based) is stored, then hangs
        self.blocked = threading.Event()
        self.release = threading.Event()
        self.tokens = {"token-1"}  # access tokens accepted
        self.expired = set[str]()  # tokens that get a 401
        self.refresh_ok = True
        self.refreshes = 0
        self.log: list[tuple[str, str, dict[str, str]]] = []  # (verb, resource, params)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def calls(self, resource: str) -> list[dict[str, str]]:
        return [p for _, r, p in self.log if r == resource]

    def start(self) -> FakeYouTube:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


def error(status: int, reason: str, message: str = "") -> tuple[int, dict[str, Any]]:
    message = message or reason
    return status, {"error": {"code": status, "message": message,
                              "errors": [{"message": message, "domain": "youtube.comment",
                                          "reason": reason}]}}


def comment(cid: str, author: str, text: str, published: str, likes: int = 0,
            parent: str = "") -> dict[str, Any]:
    snip: dict[str, Any] = {"authorDisplayName": f"name of {author}",
                            "authorChannelId": {"value": author}, "textDisplay": text,
                            "textOriginal": text, "likeCount": likes, "publishedAt": published}
    if parent:
        snip["parentId"] = parent
    return {"kind": "youtube#comment", "id": cid, "snippet": snip}


class Handler(BaseHTTPRequestHandler):
    server: FakeYouTube
    timeout = 30

    def log_message(self, *_: Any) -> None:  # quiet test output
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _params(self) -> tuple[str, dict[str, str]]:
        url = urlsplit(self.path)
        return url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}

    def _authorised(self, params: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if params.get("key") == API_KEY:
            return None
        if "key" in params:
            return error(400, "keyInvalid", "API key not valid.")
        if bearer in self.server.expired:
            return error(401, "authError", "Invalid Credentials")
        if bearer in self.server.tokens:
            return None
        return error(401, "authError", "Login Required")

    def do_GET(self) -> None:
        path, params = self._params()
        resource = path.removeprefix("/youtube/v3/")
        with self.server.lock:
            self.server.log.append(("GET", resource, params))
        refused = self._authorised(params)
        if refused:
            return self._send(*refused)
        if resource == "commentThreads":
            body = self._threads(params)
            return self._send(body["error"]["code"] if "error" in body else 200, body)
        if resource == "comments":
            return self._send(200, self._replies(params))
        if resource == "videos":
            ids = params.get("id", "").split(",")
            return self._send(200, {"items": [
                {"id": v, "snippet": {"title": self.server.titles[v], "description": ""}}
                for v in ids if v in self.server.titles]})
        self._send(*error(404, "notFound"))

    def _threads(self, params: dict[str, str]) -> dict[str, Any]:
        s = self.server
        if params.get("videoId") in s.comments_off:
            return error(403, "commentsDisabled", "The video has disabled comments.")[1]
        if "videoId" in params:
            chosen = [t for t in s.threads if t.video == params["videoId"]]
        else:
            assert params.get("allThreadsRelatedToChannelId") == OWNER
            chosen = list(s.threads)
        assert params.get("textFormat") == "plainText"
        start = int(params.get("pageToken") or 0)
        page = chosen[start:start + s.page_size]
        items = []
        for t in page:
            replies = [comment(f"{t.id}.r{n}", a, x, t.published, parent=t.id)
                       for n, (a, x) in enumerate(t.replies)]
            replies += [comment(p["id"], OWNER, p["text"], t.published, parent=t.id)
                        for p in s.posted if p["parentId"] == t.id]
            item: dict[str, Any] = {"kind": "youtube#commentThread", "id": t.id, "snippet": {
                "channelId": OWNER, "videoId": t.video, "canReply": t.can_reply,
                "totalReplyCount": len(replies), "isPublic": True,
                "topLevelComment": comment(t.id, t.author, t.text, t.published, t.likes)}}
            if replies[:s.shown_replies]:
                item["replies"] = {"comments": replies[:s.shown_replies]}
            items.append(item)
        out: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "items": items}
        if start + s.page_size < len(chosen):
            out["nextPageToken"] = str(start + s.page_size)
        return out

    def _replies(self, params: dict[str, str]) -> dict[str, Any]:
        s = self.server
        parent = params["parentId"]
        thread = next(t for t in s.threads if t.id == parent)
        items = [comment(f"{parent}.r{n}", a, x, thread.published, parent=parent)
                 for n, (a, x) in enumerate(thread.replies)]
        items += [comment(p["id"], OWNER, p["text"], thread.published, parent=parent)
                  for p in s.posted if p["parentId"] == parent]
        return {"items": items}

    def do_POST(self) -> None:
        path, params = self._params()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if path == "/token":
            return self._token(parse_qs(body.decode()))
        resource = path.removeprefix("/youtube/v3/")
        with self.server.lock:
            self.server.log.append(("POST", resource, params))
        refused = self._authorised(params) or (
            error(403, "insufficientPermissions") if "key" in params else None)
        if refused:
            return self._send(*refused)
        snippet = json.loads(body)["snippet"]
        parent, text = snippet["parentId"], snippet["textOriginal"]
        s = self.server
        with s.lock:
            if s.quota_after is not None and len(s.posted) >= s.quota_after:
                return self._send(*error(403, "quotaExceeded", "The request cannot be "
                                         "completed because you have exceeded your quota."))
            if parent in s.fail_parent:
                return self._send(*error(*s.fail_parent[parent]))
            made = {"parentId": parent, "text": text, "id": f"{parent}.mine{len(s.posted)}"}
            s.posted.append(made)
            hang = s.block_at == len(s.posted)
        if hang:  # stored, but the answer never comes: the client dies waiting
            s.blocked.set()
            s.release.wait(30)
            return
        self._send(200, comment(made["id"], OWNER, text, "2026-12-01T10:00:00Z",
                                parent=parent))

    def _token(self, form: dict[str, list[str]]) -> None:
        s = self.server
        grant = form.get("grant_type", [""])[0]
        if grant == "refresh_token" and s.refresh_ok and form["refresh_token"] == ["refresh-1"]:
            s.refreshes += 1
            token = f"token-{len(s.tokens) + 1}"
        elif grant == "authorization_code" and form.get("code") == ["the-code"]:
            token = "token-1"
        else:
            return self._send(400, {"error": "invalid_grant",
                                    "error_description": "Token has been expired or revoked."})
        s.tokens.add(token)
        self._send(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer",
                         "refresh_token": "refresh-1", "scope": " ".join(
                             ["https://www.googleapis.com/auth/youtube.force-ssl"])})
