"""Focus: the prompt carries only the chunks' sentences nearest the comment, in the article's
order, within a word budget, with the real embedder."""

from __future__ import annotations

from shawgpt.index.store import Source
from shawgpt.reply.focus import focus

A = Source("wavelets.pdf", "4", 0.7,
           "The Fourier transform uses sine waves. A wavelet is a wave-like oscillation that "
           "is localized in time. Wavelets come in many shapes. The Morlet wavelet is common. "
           "My cat likes boxes. The weather was nice that day.")
B = Source("other.pdf", "1", 0.4, "Pizza dough needs yeast. Bake it hot.")


def test_whole_chunks_when_the_budget_is_zero(embedder) -> None:
    assert focus("What is a wavelet?", [A, B], embedder.embed_texts, 0) == [A, B]


def test_the_nearest_sentences_with_a_neighbour_within_the_budget(embedder) -> None:
    out = focus("What is a wavelet?", [A, B], embedder.embed_texts, 30)
    assert [s.file for s in out] == ["wavelets.pdf"]  # nothing of the pizza chunk
    assert out[0].page == "4" and out[0].score == 0.7
    assert out[0].text.startswith("The Fourier transform uses sine waves. A wavelet is a "
                                  "wave-like oscillation that is localized in time.")
    assert "cat" not in out[0].text and out[0].text.endswith("…")
    assert sum(len(s.text.split()) for s in out) <= 30 + 2
