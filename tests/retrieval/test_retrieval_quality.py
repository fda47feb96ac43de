"""Hybrid search, the gate and rerank: their rules, and what they buy on the project's own
articles (articles/*.pdf) with the real embedder and Chroma, scored against the hand labels
in tests/data/labels.jsonl through the same evaluate() that `shawgpt eval` runs."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import make_pdf
from shawgpt.config import load_settings
from shawgpt.index.clean import Cleaner
from shawgpt.index.store import Index, open_index
from shawgpt.index.sync import SyncOptions, sync_index
from shawgpt.reply.pipeline import evaluate
from shawgpt.reply.wiring import build
from shawgpt.retrieval.evaluate import read_labels
from shawgpt.retrieval.gate import classify
from shawgpt.retrieval.hybrid import load_corpus, ranking, rrf, tokenize, topic_terms
from shawgpt.retrieval.retrieve import Strategy, search

REPO = Path(__file__).resolve().parents[2]
LABELS = REPO / "tests" / "data" / "labels.jsonl"
OPTS = SyncOptions(chunk_size=256, chunk_overlap=25)


def test_tokenize_keeps_codes_and_folds_plurals() -> None:
    assert tokenize("The sym4 and db4 wavelets; Daubechies' series, bias and analyses!") == [
        "sym4", "db4", "wavelet", "daubechy", "series", "bias", "analys"]
    assert tokenize("Thanks, what is it?") == []


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf([np.array([2, 0, 1]), np.array([0, 2])], 3)
    assert fused.tolist() == pytest.approx([1 / 62 + 1 / 61, 1 / 63, 1 / 61 + 1 / 62])
    assert ranking(fused).tolist() == [0, 2, 1]  # a tie keeps corpus order


def test_topic_terms_are_few_files_and_discussed_is_used_three_times() -> None:
    chunks = [["wavelet", "wavelet", "sym4", "signal"], ["wavelet", "signal"],
              ["kurtosis", "kurtosis", "kurtosis", "signal", "42"], ["data"], ["data"]]
    files = ["a.pdf", "a.pdf", "b.pdf", "c.pdf", "d.pdf"]
    discussed, specific = topic_terms(chunks, files)
    assert discussed == {"wavelet", "kurtosis"}
    assert specific == {"wavelet", "kurtosis", "sym4"}  # one file in four; no bare numbers


DISCUSSED = frozenset({"wavelet", "kurtosis", "ica", "blink"})
SPECIFIC = DISCUSSED | {"sym4", "mediocristan", "ges", "whitening", "daubechy", "scale"}


@pytest.mark.parametrize(("comment", "reason"), [
    ("What does the 4 in sym4 mean", "question"),
    ("Hi Shaw, how do I pick a mother wavelet", "question"),
    ("I didn't understand the scales in the plot.", "question"),
    ("Great video! One question - does ICA need whitening", "question"),
    ("Is it possible to run this on EEG", "question"),
    ("sym4", "remark"),
    ("GES algorithm", "remark"),
    ("great as usual! the wavelet view of kurtosis is a neat idea", "remark"),
    ("daubechies wavelets at every scale need whitening first", "remark"),
    ("Thank you so much, super helpful!", "thanks"),
    ("Awesome video ... never knew wavelets were this powerful.", "thanks"),
    ("I agree, ICA with blink removal is the way to go", "thanks"),
    ("Best explanation of kurtosis and wavelets I've ever seen", "thanks"),
    ('"the kurtosis of a wavelet decomposition" My grey hairs beg to differ', "chatter"),
    ("First!", "chatter"),
    ("  ", "empty"),
])
def test_gate_rules(comment: str, reason: str) -> None:
    verdict = classify(comment, DISCUSSED, SPECIFIC, tokenize)
    assert verdict.reason == reason
    assert verdict.needs_context == (reason in ("question", "remark"))


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory, embedder) -> Index:
    """An index of the project's four articles, built once for this module."""
    data = tmp_path_factory.mktemp("own") / "data"
    report = sync_index(REPO / "articles", data / "index", embedder, Cleaner.from_file(), OPTS)
    assert report.indexed_files == 4 and not report.failed
    index = open_index(data / "index")
    assert index is not None
    return index


class Counting:
    """The real embedder, counting what it is asked to embed (each query embedded once)."""

    def __init__(self, inner) -> None:
        self.inner, self.name = inner, inner.name
        self.queries: list[str] = []
        self.texts = 0
        self._seen: dict[str, list[float]] = {}

    def embed_queries(self, texts):
        self.queries += list(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self._seen]
        self._seen.update(zip(todo, self.inner.embed_queries(todo), strict=True))
        return [self._seen[t] for t in texts]

    loaded = True

    def load(self):
        pass

    def embed_texts(self, texts):
        self.texts += len(texts)
        return self.inner.embed_texts(texts)


def files(found) -> list[list[str]]:
    return [[s.file for s in sources] for sources in found]


def test_exact_terms_are_found_by_bm25_not_by_cosine(own: Index, embedder) -> None:
    q = ["What is Mediocristan vs Extremistan?"]
    assert search(q, embedder, own, 3, 0.325, Strategy(hybrid=False)) == [[]]
    hybrid = search(q, embedder, own, 3, 0.325)[0]
    assert [s.file for s in hybrid] == ["fat-tails.pdf"] * 3
    assert hybrid[0].score < 0.325  # kept for the shared terms, not for its cosine
    assert all("Mediocristan" in s.text or "Extremistan" in s.text for s in hybrid)


def test_gate_spares_praise_the_search(own: Index, embedder) -> None:
    counting = Counting(embedder)
    comments = ["Thank you so much, this was super helpful!", "How do I spot fat tails?"]
    found = search(comments, counting, own, 3, 0.325)
    assert files(found) == [[], ["fat-tails.pdf"] * 3]
    assert counting.queries == ["How do I spot fat tails?"]  # praise is never embedded
    ungated = search(comments[:1], embedder, own, 3, -1.0, Strategy(gate=False))
    assert len(ungated[0]) == 3  # without the gate, praise would get three chunks


def test_rerank_fuses_a_sentence_ranking_and_caches_it(own: Index, embedder) -> None:
    counting = Counting(embedder)
    q = ["Which mother wavelet should I use for denoising?"]
    plain = search(q, embedder, own, 3, 0.325)[0]
    reranked = search(q, counting, own, 3, 0.325, Strategy(rerank=True, candidates=4))[0]
    assert [s.file for s in reranked] == ["wavelets.pdf"] * 3
    assert [s.score for s in plain] == [0.6308, 0.5317, 0.4412]
    assert [s.score for s in reranked] == [0.6308, 0.4855, 0.5317]  # scores stay cosine
    embedded = counting.texts
    assert embedded > 0
    search(q, counting, own, 3, 0.325, Strategy(rerank=True, candidates=4))
    assert counting.texts == embedded  # sentence vectors are kept for the process


def test_own_labels_default_against_the_original_pipeline(own: Index, embedder) -> None:
    settings = load_settings({"data_dir": str(own.path.parent.parent)}, env={},
                             toml_path=Path("none.toml"))
    parts = build(settings)
    parts._embedder = Counting(embedder)  # three runs, one embedding per comment
    labels = read_labels(LABELS)
    now = evaluate(parts, labels, print).summary()
    assert now["questions"] == 17 and now["none"] == 10
    assert (now["hit@1"], now["hit@3"], now["mrr"], now["gate_accuracy"]) == (
        0.9412, 0.9412, 0.9412, 1.0)
    parts.settings = replace(settings, hybrid=False, gate=False, cutoff=0.5)
    before = evaluate(parts, labels, print).summary()
    assert (before["hit@1"], before["hit@3"], before["mrr"], before["gate_accuracy"]) == (
        0.3529, 0.3529, 0.3529, 1.0)
    parts.settings = replace(settings, hybrid=False, gate=False)
    vector = evaluate(parts, labels, print).summary()
    # at the calibrated cutoff, vectors alone find as much here; the gate keeps praise clean
    assert (vector["hit@3"], vector["gate_accuracy"]) == (0.9412, 0.8)


def test_corpus_follows_a_reindex(corpus_dir: Path, tmp_path: Path, embedder) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(corpus_dir, articles)
    root = tmp_path / "index"
    sync_index(articles, root, embedder, Cleaner.from_file(), OPTS)
    first = open_index(root)
    assert first is not None
    assert sorted(set(load_corpus(first).files)) == [
        "kurtosis.pdf", "sourdough.pdf", "wavelets.pdf"]
    make_pdf(articles / "causal.pdf", ["Causal discovery with the GES algorithm. " * 3])
    sync_index(articles, root, embedder, Cleaner.from_file(), OPTS)
    second = open_index(root)
    assert second is not None and second.path != first.path
    corpus = load_corpus(second)
    assert "causal.pdf" in corpus.files and len(corpus) == second.manifest.chunk_count
    found = search(["How does the GES algorithm do causal discovery?"], embedder, second, 3,
                   0.325)
    assert found[0][0].file == "causal.pdf"


def test_a_chunk_under_the_cutoff_needs_two_specific_terms_to_be_sent(index_dir: Path) -> None:
    """BM25 ranks a chunk that shares one word with the comment; under the cutoff, only one
    that shares two or more of its specific terms bears on it (the DAG question once got a
    wavelet chunk at 0.24 this way)."""
    from shawgpt.index.store import open_index
    from shawgpt.retrieval.hybrid import load_corpus
    from shawgpt.retrieval.retrieve import bears_on

    index = open_index(index_dir)
    assert index is not None
    corpus = load_corpus(index)
    sourdough = next(j for j, f in enumerate(corpus.files) if f == "sourdough.pdf")
    assert bears_on("Which starter and Dutch oven do you use?", corpus, sourdough)
    assert not bears_on("Does your causal graph need a starter node?", corpus, sourdough)
