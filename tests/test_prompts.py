"""Prompt templates: the recipe's [INST] prompts render to exactly what the notebook built."""

from __future__ import annotations

from shawgpt.prompts import build_prompt
from shawgpt.store import Source

PERSONA = (
    "ShawGPT, functioning as a virtual data science consultant on YouTube, communicates in "
    "clear, accessible language, escalating to technical depth upon request. It reacts to "
    "feedback aptly and ends responses with its signature '–ShawGPT'. ShawGPT will tailor the "
    "length of its responses to match the viewer's comment, providing concise acknowledgments "
    "to brief expressions of gratitude or feedback, thus keeping the interaction natural and "
    "engaging."
)


def recipe_no_context(comment: str) -> str:
    instructions = PERSONA + "\n\nPlease respond to the following comment.\n"
    return f"[INST] {instructions} \n{comment} \n[/INST]"


def recipe_with_context(context: str, comment: str) -> str:
    return (
        f"[INST]{PERSONA}\n\n{context}\nPlease respond to the following comment. "
        f"Use the context above if it is helpful.\n\n{comment}\n[/INST]\n"
    )


def test_inst_without_context_is_the_recipe_verbatim() -> None:
    p = build_prompt("What is fat-tailedness?", [], "inst", "–ShawGPT")
    assert p.raw
    assert p.user == recipe_no_context("What is fat-tailedness?")


def test_inst_with_context_is_the_recipe_verbatim() -> None:
    sources = [Source("a.pdf", "1", 0.7, "Chunk one."), Source("b.pdf", "2", 0.6, "Chunk two.")]
    p = build_prompt("What is fat-tailedness?", sources, "inst", "–ShawGPT")
    context = "Context:\nChunk one.\n\nChunk two.\n\n"
    assert p.user == recipe_with_context(context, "What is fat-tailedness?")


def test_slots_are_filled_once_so_braces_in_comments_survive() -> None:
    p = build_prompt("Is {context} a slot? {}", [], "chat", "–ShawGPT")
    assert p.user == "Is {context} a slot? {}"
    assert p.system is not None and p.system.endswith("–ShawGPT")
