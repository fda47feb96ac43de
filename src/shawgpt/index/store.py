"""Store: the persisted vector index, Chroma collections in cosine space plus a manifest.

Layout under `<data_dir>/index/`:

    CURRENT        the name of the live generation; replaced atomically (config/files.py)
    gen-000007/    chroma/ (a chromadb.PersistentClient folder), manifest.json, and the
                   snapshot: vectors.npy + chunks.json (every chunk's vector, id, text,
                   file and page), written at commit so queries need not import Chroma
    lock           held by the one writer at a time

A writer (writer.py) copies the live generation, changes the copy and then flips CURRENT, so
a crash or `kill -9` at any moment leaves CURRENT naming a complete generation: the old
state or the new one, never a mixture. Readers open what CURRENT names, only when it is a
generation folder inside the index folder, and never write. An index damaged by hand (a
missing generation, a corrupt manifest or snapshot) is an IndexDamagedError that names
`shawgpt index --full`, which rebuilds without reading it.
The manifest records the embedding model and chunking, so a query with another model is
refused.

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

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from shawgpt.config.files import atomic_write
from shawgpt.errors import IndexDamagedError, IndexMismatchError, IndexMissingError

COLLECTION = "articles"
GENERATION = re.compile(r"gen-\d{6,}")  # the only names CURRENT may hold
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
        atomic_write(path, json.dumps(asdict(self), indent=1))


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
        try:
            self.manifest = Manifest.load(path / MANIFEST)
        except FileNotFoundError:
            raise damaged(path.parent, f"{path.name} has no {MANIFEST}") from None
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            raise damaged(path.parent, f"{path.name}/{MANIFEST} is corrupt") from None
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
        try:
            data: dict[str, Any] = json.loads(chunks.read_text(encoding="utf-8"))
            data["vectors"] = np.load(self.path / SNAPSHOT_VECTORS)
            consistent = all(len(data[k]) == len(data["ids"]) for k in ("texts", "files",
                                                                          "pages", "vectors"))
        except (OSError, ValueError, TypeError, KeyError, EOFError):
            consistent = False
        if not consistent:
            raise damaged(self.path.parent, f"the snapshot in {self.path.name} is corrupt")
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


def damaged(root: Path, what: str) -> IndexDamagedError:
    return IndexDamagedError(f"the index in {root} is damaged ({what}); run "
                             "`shawgpt index --full` to rebuild it")


def open_index(root: Path, server: str = "") -> Index | None:
    """The live generation, or None when no index was ever committed.

    CURRENT must name a `gen-NNNNNN` folder directly inside `root` (never a path that leads
    elsewhere); anything else is an IndexDamagedError that says how to repair it.
    """
    current = root / "CURRENT"
    try:
        raw = current.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise damaged(root, f"cannot read CURRENT: {exc.strerror}") from None
    name = raw.decode("utf-8", errors="replace").strip()
    if not GENERATION.fullmatch(name):
        shown = ascii(name[:40]) if name else "nothing"
        raise damaged(root, f"CURRENT holds {shown}, not a generation name")
    gen = root / name
    if gen.is_symlink() or not gen.is_dir():
        raise damaged(root, f"CURRENT names {name}, which is not a folder there")
    return Index(gen, server)
