"""Store: the persisted vector index, Chroma collections in cosine space plus a manifest.

Layout under `<data_dir>/index/`:

    CURRENT        the name of the live generation; replaced atomically (os.replace)
    gen-000007/    chroma/ (a chromadb.PersistentClient folder), manifest.json, and the
                   snapshot: vectors.npy + chunks.json (every chunk's vector, id, text,
                   file and page), written at commit so queries need not import Chroma
    lock           held by the one writer at a time

A writer copies the live generation, changes the copy and then flips CURRENT, so a crash or
`kill -9` at any moment leaves CURRENT naming a complete generation: the old state or the
new one, never a mixture. Readers open whatever CURRENT names and never write. The manifest
records the embedding model and chunking, so a query with another model is refused.

The snapshot is what `reply` reads (hybrid.py): a cold process that imports chromadb and
opens its client pays ~0.7 s before the first query, numpy reads the snapshot in a few ms.
Chroma stays the store of record (writes, the plain cosine query, server mode, where no
local snapshot is kept).

Scores are cosine similarities (1 - Chroma's cosine distance). Writes store what LlamaIndex's
ChromaVectorStore stores (llama_metadata), so LlamaIndex can open the collection; queries read
it directly, because ChromaVectorStore reports exp(-distance) rather than the cosine the
cutoff is defined on.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import IndexMismatchError, IndexMissingError, LockError

COLLECTION = "articles"
MANIFEST = "manifest.json"
SNAPSHOT_VECTORS, SNAPSHOT_CHUNKS = "vectors.npy", "chunks.json"


@dataclass(frozen=True)
class Source:
    """A retrieved chunk: where it comes from, how similar it is, what it says."""

    file: str
    page: str
    score: float
    text: str


@dataclass
class FileEntry:
    sha256: str
    pages: int
    chunk_ids: list[str]


@dataclass
class Manifest:
    embed_model: str
    chunk_size: int
    chunk_overlap: int
    files: dict[str, FileEntry] = field(default_factory=dict)
    built_at: float = 0.0
    # which reader made the PDFs' text; manifests older than the setting were pypdf's
    pdf_reader: str = "llama-index"

    @property
    def chunk_count(self) -> int:
        return sum(len(f.chunk_ids) for f in self.files.values())

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = {k: FileEntry(**v) for k, v in data.pop("files").items()}
        return cls(files=files, **data)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        os.replace(tmp, path)


def _connect(gen: Path, server: str) -> tuple[Any, Any]:
    """The Chroma collection of generation `gen`: in its own folder, or on a server.

    On a server each generation is its own collection, named after the data folder and the
    generation, so CURRENT (kept locally) still decides atomically which one is live.
    """
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if server:
        url = urlparse(server if "://" in server else f"http://{server}")
        try:
            client = chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises several kinds when the server is away
            raise IndexMissingError(f"cannot reach the Chroma server at {server}: {exc}") from None
        name = server_collection_name(gen)
    else:
        # Chroma caches one client per path string: an absolute path keeps two folders that
        # share a relative name (another working directory) from being confused.
        client = chromadb.PersistentClient(path=str((gen / "chroma").resolve()),
                                           settings=settings)
        name = COLLECTION
    config: Any = {"hnsw": {"space": "cosine"}}
    return client, client.get_or_create_collection(name, configuration=config)


def server_collection_name(gen: Path) -> str:
    root = hashlib.sha1(str(gen.parent.resolve()).encode()).hexdigest()[:10]
    return f"shawgpt-{root}-{gen.name}"


class Index:
    """A read-only view of one generation."""

    def __init__(self, path: Path, server: str = "") -> None:
        self.path, self.server = path, server
        self.manifest = Manifest.load(path / MANIFEST)
        self._coll: Any = None

    @property
    def collection(self) -> Any:
        if self._coll is None:
            self._coll = _connect(self.path, self.server)[1]
        return self._coll

    def snapshot(self) -> dict[str, Any] | None:
        """Every chunk as {"ids", "texts", "files", "pages", "vectors"} from the files written
        at commit, or None for a server index or one written before snapshots existed."""
        import numpy as np

        chunks = self.path / SNAPSHOT_CHUNKS
        if self.server or not chunks.is_file():
            return None
        data: dict[str, Any] = json.loads(chunks.read_text(encoding="utf-8"))
        data["vectors"] = np.load(self.path / SNAPSHOT_VECTORS)
        return data

    def check_model(self, embed_model: str) -> None:
        if self.manifest.embed_model != embed_model:
            raise IndexMismatchError(
                f"the index was built with {self.manifest.embed_model}, not {embed_model}; "
                "run `shawgpt index --full` to re-index"
            )

    def query(self, embeddings: Sequence[Sequence[float]], k: int) -> list[list[Source]]:
        """The k nearest chunks for each query embedding, best first."""
        count = self.manifest.chunk_count
        if count == 0 or not embeddings:
            return [[] for _ in embeddings]
        res = self.collection.query(
            query_embeddings=[list(e) for e in embeddings],
            n_results=min(k, count),
            include=["documents", "metadatas", "distances"],
        )
        out: list[list[Source]] = []
        for docs, metas, dists in zip(
            res["documents"], res["metadatas"], res["distances"], strict=True
        ):
            out.append(
                [
                    Source(str(m["file"]), str(m.get("page", "")), round(1.0 - d, 4), t)
                    for t, m, d in zip(docs, metas, dists, strict=True)
                ]
            )
        return out


def open_index(root: Path, server: str = "") -> Index | None:
    """The live generation, or None when no index was ever committed."""
    try:
        name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return Index(root / name, server)


@contextlib.contextmanager
def writer_lock(root: Path, timeout: float) -> Iterator[None]:
    """One writer at a time; wait up to `timeout` seconds, then fail clearly."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "lock").open("a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError(
                        f"another `shawgpt index` is running (lock {root / 'lock'} held for "
                        f"more than {timeout:g} s); try again when it has finished"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
        tmp = self.root / "CURRENT.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(self.path.name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")
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
        with (self.path / SNAPSHOT_VECTORS).open("wb") as fh:
            np.save(fh, vectors)
            fh.flush()
            os.fsync(fh.fileno())
        with (self.path / SNAPSHOT_CHUNKS).open("w", encoding="utf-8") as fh:
            json.dump(chunks, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())

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
