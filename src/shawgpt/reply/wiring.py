"""Wiring: the one place that builds the embedder, store, cleaner and generator from settings.

Core functions (pipeline.py) take these parts as parameters; nothing else reads settings to
construct models, and nothing else touches LlamaIndex's global `Settings`. Parts are built on
first use, so `shawgpt retrieve` never loads the generator and `--help` loads nothing.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shawgpt.config import Settings
from shawgpt.errors import ConfigError, ModelError
from shawgpt.index.clean import Cleaner
from shawgpt.index.store import Index, open_index
from shawgpt.models.base import Generator
from shawgpt.models.embed import Embedder
from shawgpt.reply.examples import VoiceExamples


@dataclass
class Parts:
    settings: Settings
    _embedder: Embedder | None = field(default=None, repr=False)
    _generator: Generator | None = field(default=None, repr=False)
    _loading: Future[Generator] | None = field(default=None, repr=False)
    _voice: VoiceExamples | None = field(default=None, repr=False)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from shawgpt.models.e5_embed import SPEC as E5_SPEC
            from shawgpt.models.e5_embed import E5Embedder
            from shawgpt.models.embed import EMBEDDERS

            if self.settings.embedder not in EMBEDDERS:
                raise ConfigError(f"unknown embedder {self.settings.embedder!r} "
                                  f"(choose from: {', '.join(EMBEDDERS)})")
            spec, cache = self.settings.embed_model, self.settings.cache_path
            # e5 runs on its own engine, whichever `embedder`
            self._embedder = E5Embedder(spec, cache_dir=cache) if spec == E5_SPEC else \
                EMBEDDERS[self.settings.embedder](spec, cache_dir=cache)
        return self._embedder

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            if self._loading is None:
                self.preload_generator()
            if self._generator is not None:  # a warm server's
                return self._generator
            assert self._loading is not None
            self._generator = self._loading.result()  # re-raises a loading error here
        return self._generator

    def preload_generator(self) -> None:
        """Start loading the generator in a thread, so it overlaps embedding and retrieval
        (the engine and torch release the GIL while they read and compile weights)."""
        if self._generator is None and self._loading is None:
            from shawgpt.models.generate import make_generator

            self._generator = self._warm_server()
            if self._generator is not None:
                return
            if self._needs_transformers():
                # transformers resolves its names lazily and not thread-safely: a name asked
                # for from two threads at once can fail ("cannot import name 'AutoModel'").
                # Resolve every name either thread uses here, before the thread starts.
                from transformers import (  # noqa: F401
                    AutoModel,
                    AutoModelForCausalLM,
                    AutoTokenizer,
                    StaticCache,
                )
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-generator")
            self._loading = pool.submit(make_generator, self.settings)
            pool.shutdown(wait=False)

    def release_generator(self) -> None:
        """Drop the generator, so its memory is free for what comes next (finetune's
        trainer after it has written questions); the next use loads it again."""
        import gc

        self._generator, self._loading = None, None
        gc.collect()

    def on_warm_server(self) -> bool:
        """Whether generation runs on a `shawgpt serve` (found now if nothing is loaded yet):
        then work done ahead of a person (review's next candidate) costs this process
        nothing. Never starts an in-process load."""
        if self._generator is None and self._loading is None:
            self._generator = self._warm_server(start=False)
        return self._generator is not None and self._loading is None

    def _warm_server(self, start: bool = True) -> Generator | None:
        """The `shawgpt serve` of this data folder when one runs on these generation settings
        (`serve` setting; models/remote.py says why it is not used when it is not); with
        `serve = "auto"` one is started when none runs, unless `start` is False."""
        s = self.settings
        if s.serve == "off" or s.backend == "openai":
            return None
        from shawgpt.models.generate import make_generator
        from shawgpt.models.remote import find_server, note
        from shawgpt.reply.prompts import share_canary

        remote = find_server(s, lambda: make_generator(s))
        if remote is None and s.serve == "auto" and start:
            from shawgpt.reply.serve import AUTO_IDLE_MINUTES, start_server

            note(f"starting a server for {s.data_path} (serve = \"auto\"; it stops after "
                 f"{AUTO_IDLE_MINUTES:g} idle minutes)")
            if start_server(s):
                remote = find_server(s, lambda: make_generator(s))
            else:
                note(f"the server did not start (see {s.data_path / 'serve.log'}); "
                     f"generating in-process")
        if remote is not None:
            share_canary(remote.canary)
        return remote

    def _needs_transformers(self) -> bool:
        if self.settings.backend == "transformers":
            return True
        if self.settings.backend != "local":
            return False
        from shawgpt.models.engine.build import engine_source
        from shawgpt.models.engine.weights import NotForEngine

        try:
            engine_source(self.settings.llm_model, self.settings.cache_path)
        except (NotForEngine, ModelError):
            return True
        return False

    @property
    def voice(self) -> VoiceExamples | None:
        """The creator's past replies for the prompt (`voice_pairs`), read once; None when
        no pairs file is set."""
        s = self.settings
        if not s.voice_pairs or s.voice_examples < 1:
            return None
        if self._voice is None:
            from shawgpt.tables.pairs import read_pairs

            pairs = read_pairs(Path(s.voice_pairs).expanduser(), s.signature, least=1)
            self._voice = VoiceExamples.from_pairs(pairs, self.embedder.embed_texts,
                                                   s.voice_examples)
        return self._voice

    @property
    def cleaner(self) -> Cleaner:
        path = self.settings.clutter_file
        return Cleaner.from_file(Path(path) if path else None)

    @property
    def index_root(self) -> Path:
        return self.settings.index_path

    def open_index(self) -> Index | None:
        return open_index(self.index_root, self.settings.chroma_url)

    @property
    def prompts_dir(self) -> Path | None:
        return Path(self.settings.prompts_dir) if self.settings.prompts_dir else None


def build(settings: Settings) -> Parts:
    _quiet_libraries()
    return Parts(settings)


def _quiet_libraries() -> None:
    """Offline by default and no third-party progress bars or telemetry on our output."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
