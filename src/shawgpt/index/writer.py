"""Writer: the one process that changes the index, and the generation it writes.

writer_lock() lets one writer in at a time. A Generation starts as a copy of the live one
(or empty for a full rebuild), takes deletions and new chunks, and at commit() writes the
query snapshot and the manifest, then replaces CURRENT atomically and prunes generations no
reader needs (the layout and its guarantees are in store.py). Chunks are stored as
LlamaIndex's ChromaVectorStore stores them (llama_metadata). What to add or delete is
sync.py's business; reading is store.py's.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from shawgpt.config.files import atomic_open, atomic_write
from shawgpt.errors import LockError
from shawgpt.index.store import (
    GENERATION,
    MANIFEST,
    SNAPSHOT_CHUNKS,
    SNAPSHOT_VECTORS,
    Index,
    Manifest,
    _connect,
    server_collection_name,
)


@contextlib.contextmanager
def writer_lock(root: Path, timeout: float) -> Iterator[None]:
    """One writer at a time; wait up to `timeout` seconds, then fail clearly.

    A filelock on `root/lock`, a file that holds nothing and stays (removing a lock file
    lets two processes hold two inodes of one name). Not thread-local: the hold is the
    process's, whichever thread lets go.
    """
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / "lock", thread_local=False)
    try:
        lock.acquire(timeout=timeout, poll_interval=0.2)
    except Timeout:
        raise LockError(
            f"another `shawgpt index` is running (lock {root / 'lock'} held for "
            f"more than {timeout:g} s); try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _pages(coll: Any, page: int = 5000) -> Iterator[dict[str, Any]]:
    """Everything in a collection, `page` chunks at a time: one get() of a whole large
    collection fails in SQLite ("too many SQL variables", seen at 100,000 chunks)."""
    offset = 0
    while True:
        got = coll.get(include=["embeddings", "documents", "metadatas"], limit=page,
                       offset=offset)
        if not len(got["ids"]):
            return
        yield got
        offset += len(got["ids"])


def llama_metadata(ids: Sequence[str], texts: Sequence[str],
                   metas: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """The metadata LlamaIndex's ChromaVectorStore.add stores for these chunks as TextNodes.

    Writing these records with the chunks keeps the collection one that LlamaIndex reads as
    its own vector store. They do not depend on the vectors, so sync.py has them made in the
    process that chunks (which has LlamaIndex loaded anyway) and the embedding process never
    imports LlamaIndex (1.6 s).
    """
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    records = []
    for i, t, m in zip(ids, texts, metas, strict=True):
        record = node_to_metadata_dict(TextNode(id_=i, text=t, metadata=dict(m)),
                                       remove_text=True, flat_metadata=True)
        records.append({k: "" if v is None else v for k, v in record.items()})
    return records


class Generation:
    """A new generation being written; invisible to readers until commit()."""

    snapshot_page = 5000  # chunks per get() when the snapshot is written (see _pages)

    def __init__(self, root: Path, base: Index | None, manifest: Manifest,
                 server: str = "") -> None:
        self.root, self.server = root, server
        self.base_name = base.path.name if base is not None else ""
        numbers = [int(p.name[4:]) for p in root.glob("gen-*") if p.name[4:].isdigit()]
        # never reuse the number CURRENT names, even when its folder is gone (a damaged
        # index): a process may still hold a Chroma client open on that path
        with contextlib.suppress(OSError, ValueError):
            named = (root / "CURRENT").read_text(encoding="utf-8").strip()
            if GENERATION.fullmatch(named):
                numbers.append(int(named[4:]))
        self.path = root / f"gen-{max(numbers, default=0) + 1:06d}"
        if base is not None and not server:
            shutil.copytree(base.path / "chroma", self.path / "chroma")
        else:
            self.path.mkdir(parents=True)
        self.manifest = manifest
        self._client, self._coll = _connect(self.path, server)
        if base is not None and server:
            self._copy_from(base.collection)

    def _copy_from(self, source: Any) -> None:
        """A server has no folder to copy: page the live collection into the new one."""
        for got in _pages(source):
            self._coll.add(ids=got["ids"], embeddings=got["embeddings"],
                           documents=got["documents"], metadatas=got["metadatas"])

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 4000):
            self._coll.delete(ids=list(ids[start : start + 4000]))

    def add(self, ids: Sequence[str], texts: Sequence[str], metas: Sequence[dict[str, Any]],
            embeddings: Sequence[Sequence[float]]) -> None:
        """Add chunks. `metas` are llama_metadata() records, or bare {file, page} dicts that
        are made into them here (which imports LlamaIndex)."""
        if metas and "_node_content" not in metas[0]:
            metas = llama_metadata(ids, texts, metas)
        self._coll.add(ids=list(ids), embeddings=[list(e) for e in embeddings],
                       metadatas=list(metas), documents=list(texts))

    def commit(self) -> None:
        """Write the snapshot and the manifest, then flip CURRENT: the one atomic step."""
        if not self.server:
            self._write_snapshot()
        self.manifest.built_at = time.time()
        self.manifest.save(self.path / MANIFEST)
        atomic_write(self.root / "CURRENT", self.path.name)
        self._prune()

    def _write_snapshot(self) -> None:
        import numpy as np

        got: dict[str, list[Any]] = {"ids": [], "embeddings": [], "documents": [],
                                     "metadatas": []}
        for part in _pages(self._coll, self.snapshot_page):
            for key, values in got.items():
                values.extend(part[key])
        n = len(got["ids"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(n, -1) if n else \
            np.zeros((0, 1), dtype=np.float32)
        metas = got["metadatas"] or []
        chunks = {"ids": list(got["ids"]), "texts": [str(d or "") for d in got["documents"]],
                  "files": [str(m.get("file", "")) for m in metas],
                  "pages": [str(m.get("page", "")) for m in metas]}
        with atomic_open(self.path / SNAPSHOT_VECTORS, "wb") as fh:
            np.save(fh, vectors)
        with atomic_open(self.path / SNAPSHOT_CHUNKS, "w") as fh:
            json.dump(chunks, fh, ensure_ascii=False)

    def _prune(self) -> None:
        """Keep the new and the previous live generation (a reader may still use it);
        remove older ones and any left by a writer that crashed."""
        keep = {self.path.name, self.base_name}
        for p in self.root.glob("gen-*"):
            if p.is_dir() and p.name not in keep:
                if self.server:
                    with contextlib.suppress(Exception):  # already gone is fine
                        self._client.delete_collection(server_collection_name(p))
                shutil.rmtree(p, ignore_errors=True)
