"""The `openai` backend: chat completions from any OpenAI-compatible server, over httpx.

vLLM, Ollama, llama.cpp's server and the OpenAI API all answer `POST {base_url}/chat/
completions`. Up to `batch_size` requests run at once through one pooled client; a 429 or
5xx answer is retried with exponential backoff (honouring `Retry-After`), and a server that
is down, slow or answers something else is one clear ModelError. Draft k > 0 is sent with
`temperature` and `seed` k. It leaves rendering chat templates to the server. base_url may
come from OPENAI_BASE_URL or OLLAMA_HOST (config/load.py); with -v the server, the model and
each retry are logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from shawgpt.errors import ConfigError, ModelError
from shawgpt.models.base import Done, Prompt

if TYPE_CHECKING:
    from shawgpt.config import Settings

RETRIES = 3  # after the first try, for 429 and 5xx answers, timeouts and dropped connections
BACKOFF = 0.5  # seconds before the first retry; doubled for each next one
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_STOP = 4  # stop sequences OpenAI's API accepts

_log = logging.getLogger(__name__)


class OpenAIGenerator:
    """Chat completions from an OpenAI-compatible server, `concurrency` requests at a time."""

    def __init__(self, base_url: str, model: str, api_key: str, max_new_tokens: int,
                 concurrency: int = 4, timeout: float = 120.0, temperature: float = 0.7,
                 backoff: float = BACKOFF, stop: Sequence[str] = ()) -> None:
        import threading

        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.name = model, model
        # OpenAI's API takes at most 4 stop sequences (vLLM and llama.cpp take more): the
        # signature as models most often write it, then an invented turn
        self.stop = list(stop)[:MAX_STOP]
        # completion tokens the server reported (its `usage`), for batch's throughput line
        self.new_tokens = 0
        self._count = threading.Lock()
        self.max_new_tokens, self.concurrency = max_new_tokens, max(1, concurrency)
        self.temperature, self.backoff = temperature, backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        import httpx

        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=self.concurrency))

    @classmethod
    def from_settings(cls, s: Settings) -> OpenAIGenerator:
        import os

        if not s.base_url or not s.llm_model:
            raise ConfigError("the openai backend needs --base-url and --model (base_url "
                              "may also come from OPENAI_BASE_URL or OLLAMA_HOST)")
        _log.info("openai backend: %s at %s (base_url from %s), %d requests at once, key %s",
                  s.llm_model, s.base_url, s.sources.get("base_url", "default"),
                  s.batch_size, f"from {s.api_key_env}" if os.environ.get(s.api_key_env)
                  else f"not set ({s.api_key_env} is empty)")
        name = s.signature.lstrip("-–—~ ").strip()
        stop = [f"–{name}", f"– {name}", f"-{name}", "\nUser:"] if name else ["\nUser:"]
        return cls(s.base_url, s.llm_model, os.environ.get(s.api_key_env, ""),
                   s.max_new_tokens, concurrency=s.batch_size, temperature=s.temperature,
                   stop=stop)

    def body(self, prompt: Prompt) -> dict[str, Any]:
        messages = [{"role": "user", "content": prompt.user}]
        if prompt.system is not None:
            messages.insert(0, {"role": "system", "content": prompt.system})
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0,
                                "max_tokens": prompt.max_new_tokens or self.max_new_tokens}
        if self.stop:
            body["stop"] = self.stop
        if prompt.draft:
            body.update(temperature=self.temperature, seed=prompt.draft)
        return body

    def _one(self, prompt: Prompt) -> str:
        import httpx

        for attempt in range(RETRIES + 1):
            try:
                resp = self._client.post(self.url, json=self.body(prompt))
            except httpx.TransportError as exc:
                # a timeout or a dropped connection is a busy or restarting server as often
                # as a dead one: retried like a 503, then one line naming what happened
                if attempt < RETRIES:
                    wait = self.backoff * 2**attempt
                    _log.info("%s: %s: retry %d of %d in %.1f s", self.url,
                              type(exc).__name__, attempt + 1, RETRIES, wait)
                    time.sleep(wait)
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise ModelError(f"{self.url} did not answer in time") from None
                raise ModelError(f"cannot reach {self.url}: {exc}") from None
            except httpx.HTTPError as exc:
                raise ModelError(f"cannot reach {self.url}: {exc}") from None
            if resp.status_code in RETRY_STATUSES and attempt < RETRIES:
                wait = _wait(resp, self.backoff * 2**attempt)
                _log.info("%s answered HTTP %d: retry %d of %d in %.1f s", self.url,
                          resp.status_code, attempt + 1, RETRIES, wait)
                time.sleep(wait)
                continue
            if resp.status_code != 200:
                raise ModelError(f"{self.url} answered HTTP {resp.status_code}: "
                                 f"{resp.reason_phrase}")
            try:
                data = resp.json()
                text = str(data["choices"][0]["message"]["content"] or "")
                used = (data.get("usage") or {}).get("completion_tokens")
                if isinstance(used, int):
                    with self._count:
                        self.new_tokens += used
                return text
            except (KeyError, IndexError, TypeError, ValueError):
                raise ModelError(f"{self.url} did not answer like a chat-completions API") \
                    from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def generate(self, prompts: Sequence[Prompt], done: Done | None = None) -> list[str]:
        out = [""] * len(prompts)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            running = {pool.submit(self._one, p): k for k, p in enumerate(prompts)}
            for future in as_completed(running):  # `done` runs here, on the caller's thread
                out[running[future]] = future.result()
                if done is not None:
                    done(running[future])
        return out


def _wait(resp: Any, default: float) -> float:
    try:
        return min(float(resp.headers.get("Retry-After", default)), 30.0)
    except ValueError:
        return default
