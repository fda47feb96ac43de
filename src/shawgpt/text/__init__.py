"""Text: the one sentence splitter every stage reads text by (sentences.py).

A reader's sentences: not cut at "i.e." or "e.g.", a PDF heading a sentence of its own, and
Chinese and Japanese sentences ended by 。！？ with no space after. A base stage like config:
it imports nothing of shawgpt but errors, and never a stage above it, so that retrieval,
safety, answer and reply all split the same way.
"""

from shawgpt.text.sentences import heading, joined, sentence_ends, sentences

__all__ = ["heading", "joined", "sentence_ends", "sentences"]
