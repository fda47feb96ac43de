"""Hybrid: BM25 over the index's chunks, fused with vector search by reciprocal rank fusion.

Embeddings miss exact terms ("sym4", "GES", "kurtosis"); BM25 finds them. Each ranks the
chunks of the index, and reciprocal rank fusion (RRF, k=60) merges the two top lists:
score(chunk) = sum over lists of 1 / (60 + rank). Fusing ranks, not scores, needs no
calibration between cosine and BM25 scales. retrieve.py decides how many and which.

The corpus (ids, texts, files, pages, normalized embeddings) is read from the index
generation's snapshot (store.py; the Chroma collection for a server index) once per
process, and BM25 (bm25s) is built from it in memory, which takes well under a second for
a few thousand chunks. Terms are lower-cased words with English stop words removed and
plurals folded ("wavelets" -> "wavelet"); Chinese, written without spaces, gives its
overlapping character pairs ("微调模型" -> 微调, 调模, 模型), measured against jieba's words
in evals/multilingual/eval_zh.py. The same tokenizer gives the gate its topic terms
(topic_terms: words few articles use).

Left out: persisting the BM25 index (rebuilt per process), corpora too large to hold their
embeddings in memory (a few hundred thousand chunks), stemming for languages other than
English, and scripts other than Latin and Chinese (their words give no BM25 terms).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shawgpt.text import sentences as split_sentences

if TYPE_CHECKING:
    import numpy as np

    from shawgpt.index.store import Index

RRF_K = 60
_WORD = re.compile(r"[a-z0-9]+")
# a run of Chinese characters (CJK unified ideographs, extension A, compatibility)
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TERM = re.compile(f"[a-z0-9]+|[{HAN}]+")
# words too common in Chinese comments and articles to tell chunks apart
_ZH = """的 了 是 在 和 与 或 也 都 就 还 又 很 我 你 他 她 它 我们 你们 他们
这 那 这个 那个 这些 那些 什么 怎么 怎样 如何 为什么 哪 哪个 吗 呢 吧 啊
呀 嘛 么 有 没有 一个 一下 可以 能 会 要 想 请问 请 谢谢 博主 老师 大佬
主 视频 文章 里 中 对 把 被 让 给 从 到 用 去 说 看 问"""
_ZH_STOP = frozenset(_ZH.split())
_ZH_FUNCTION = frozenset("的了吗呢吧啊呀嘛么和与或也都就还又很这那我你他她它们是在把被让给")
HAN_CHAR = re.compile(f"[{HAN}]")  # one Han character; gate.py counts with it too
_STOP = """a an and are as at be but by for if in into is it no not of on or such that the their
then there these they this to was will with i me my we our us you your he she him her its
them what which who whom whose when where why how do does did doing done have has had
having can could would should shall may might must am been being were so than too very
just also only about above after again against all any both each few more most other
some own same from up down out off over under further once here now don t s re ve ll d
m hi hello hey im ive dont get got let lets yes oh ok okay thank thanks please"""
STOPWORDS = frozenset(_STOP.split())


def fold(word: str) -> str:
    """Fold English plurals ("wavelets" -> "wavelet"; "series", "bias", "analysis" kept)."""
    if len(word) > 4 and word.endswith("ies") and not word.endswith(("eries", "ecies")):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as", "ies")):
        return word[:-1]
    return word


def han_terms(run: str) -> list[str]:
    """A run of Chinese characters as BM25 terms: its overlapping character pairs (a lone
    character stands as itself), leaving out common words and any pair with a function
    character (的, 了, 是, 我 ...), which would join two words into a term of neither."""
    if len(run) == 1:
        return [] if run in _ZH_STOP or run in _ZH_FUNCTION else [run]
    pairs = [run[i : i + 2] for i in range(len(run) - 1)]
    return [p for p in pairs if p not in _ZH_STOP and not _ZH_FUNCTION.intersection(p)]


def tokenize(text: str) -> list[str]:
    """Lower-cased terms without stop words; "sym4" and "db4" stay whole; Chinese runs as
    han_terms. Text without Chinese gives exactly the English terms it always gave."""
    out: list[str] = []
    for w in _TERM.findall(text.lower()):
        if "a" <= w[0] <= "z" or "0" <= w[0] <= "9":
            if len(w) > 1 and w not in STOPWORDS:
                out.append(fold(w))
        else:
            out += han_terms(w)
    return out


def is_han(term: str) -> bool:
    return bool(term) and not term.isascii()


@dataclass
class Corpus:
    """Every chunk of one index generation, with BM25 and the embedding matrix."""

    ids: list[str]
    texts: list[str]
    files: list[str]
    pages: list[str]
    vectors: np.ndarray  # one normalized row per chunk
    bm25: Any = field(repr=False)  # bm25s.BM25, or None for a corpus without terms
    discussed: frozenset[str] = frozenset()  # see topic_terms()
    specific: frozenset[str] = frozenset()
    terms: list[frozenset[str]] = field(default_factory=list, repr=False)  # per chunk
    # rerank's sentence vectors per chunk position, embedded on first need
    sentence_vectors: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    # BM25's idf of every term, for the answer selector (answer/select.py), on first need
    idf: dict[str, float] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def bm25_scores(self, query: str) -> np.ndarray:
        import numpy as np

        vocab = self.bm25.vocab_dict if self.bm25 is not None else {}
        terms = [t for t in tokenize(query) if t in vocab]
        if not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(terms), dtype=np.float32)

    def shared_terms(self, query: str, position: int) -> set[str]:
        """The query's specific terms (see topic_terms) that the chunk contains."""
        return {t for t in tokenize(query) if t in self.specific and t in self.terms[position]}

    def sentences(self, position: int) -> list[str]:
        """The chunk's sentences of four words or more (the whole chunk if none is), a Chinese
        word taken as two characters. Line breaks are read as spaces first, so a heading
        stays with the sentence under it (as when docs/retrieval.md measured the rerank)."""
        text = " ".join(self.texts[position].split())
        found = [s for s in split_sentences(text)
                 if len(s.split()) + len(HAN_CHAR.findall(s)) // 2 >= 4]
        return found or [text]

    def cosine(self, embedding: Sequence[float]) -> np.ndarray:
        import numpy as np

        q = np.asarray(embedding, dtype=np.float32)
        norm = float(np.linalg.norm(q)) or 1.0
        return self.vectors @ (q / norm)


def ranking(scores: np.ndarray) -> np.ndarray:
    """Chunk positions, best first; ties keep corpus order."""
    import numpy as np

    return np.argsort(-scores, kind="stable")


def rrf(rankings: Sequence[np.ndarray], size: int, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of rankings (arrays of positions, best first)."""
    import numpy as np

    fused = np.zeros(size, dtype=np.float64)
    for order in rankings:
        fused[order] += 1.0 / (k + np.arange(1, len(order) + 1))
    return fused


_CACHE: dict[str, Corpus] = {}


def load_corpus(index: Index) -> Corpus:
    """The corpus of this index generation, built on first use in the process."""
    key = str(index.path.resolve())
    if key not in _CACHE:
        _CACHE.clear()  # one generation at a time: a re-index makes the old one stale
        _CACHE[key] = build_corpus(index)
    return _CACHE[key]


def build_corpus(index: Index) -> Corpus:
    import bm25s
    import numpy as np

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # no "Building index" on stderr
    snap = index.snapshot()  # written at commit; Chroma only for server or older indexes
    if snap is None:
        got = index.collection.get(include=["documents", "metadatas", "embeddings"])
        metas = got["metadatas"] or []
        snap = {"ids": list(got["ids"]), "texts": [str(t or "") for t in got["documents"]],
                "files": [str(m.get("file", "")) for m in metas],
                "pages": [str(m.get("page", "")) for m in metas],
                "vectors": got["embeddings"]}
    ids, texts = snap["ids"], snap["texts"]
    vectors = np.zeros((0, 1), dtype=np.float32)
    if ids:
        vectors = np.asarray(snap["vectors"], dtype=np.float32).reshape(len(ids), -1)
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    tokens = [tokenize(t) for t in texts]
    bm25: Any = None  # none when no chunk has a single term (bm25s cannot index that)
    if any(tokens):
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
    files = snap["files"]
    discussed, specific = topic_terms(tokens, files)
    return Corpus(
        ids=ids, texts=texts, files=files, pages=snap["pages"],
        vectors=vectors, bm25=bm25, discussed=discussed, specific=specific,
        terms=[frozenset(t) for t in tokens],
    )


def topic_terms(
    chunk_tokens: Sequence[Sequence[str]], files: Sequence[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(discussed, specific): terms that few articles use and (discussed) one of them uses
    at least three times. "Few" is at most a quarter of the files (at least one), so words
    most articles use ("data", "video", "think") fall out whatever the articles are about;
    bare numbers and words under three letters never count, nor Chinese character pairs
    (hybrid.han_terms) no article uses three times: with a few Chinese articles among
    English ones every pair is rare, and "到了" or "第一" would read as technical terms."""
    counts: dict[str, dict[str, int]] = {}
    for name, toks in zip(files, chunk_tokens, strict=True):
        per = counts.setdefault(name, {})
        for t in toks:
            per[t] = per.get(t, 0) + 1
    df: dict[str, int] = {}
    peak: dict[str, int] = {}
    for per in counts.values():
        for t, n in per.items():
            df[t] = df.get(t, 0) + 1
            peak[t] = max(peak.get(t, 0), n)
    limit = max(1, len(counts) // 4)
    specific = frozenset(  # a Chinese pair, often not a word, counts once an article dwells on it
        t for t, n in df.items() if n <= limit and not t.isdigit() and
        (len(t) > 2 if not is_han(t) else peak[t] >= 3))
    return frozenset(t for t in specific if peak[t] >= 3), specific
