"""Languages: which language a reply is written in, and search across languages.

The reply's language follows `reply_language`: "comment" (the default) answers a comment in
its own language when that is one of `languages` (a Chinese comment in Chinese, an English
one in English), and in the first of `languages` when it cannot be told; an ISO code
("en", "zh") always answers in that language. The prompt then asks for it in one sentence
(the templates' `{language}` slot, empty for English so English prompts stay as they were).

`translate_queries` (on in the `multilingual` profile): a comment that needs context is
also searched in the other language of `languages`, translated by the answering model, and
the search reads "comment + translation". multilingual-e5-small alone finds few English
chunks for a Chinese question (4 of 12) and few Chinese chunks for an English one (7 of
10); with the translation, 12 of 12 and 10 of 10 (evals/multilingual/eval_zh.py,
docs/multilingual.md). It costs one short generation per such comment. The translation is
a search query only: it is never shown, and the comment itself is what the reply answers.

`article_notes`: `index` names an article written in a language the settings do not serve
(outside `languages`, or Chinese under an English-only embedder); it is indexed all the same.

It leaves detecting languages to safety/language.py and the search to retrieval/.
"""

from __future__ import annotations

from collections.abc import Sequence

from shawgpt.errors import ConfigError
from shawgpt.models.base import Prompt
from shawgpt.reply.wiring import Parts

# how the prompt names a language; others take lingua's English name
NAMES = {"zh": "Simplified Chinese", "en": "English"}
TRANSLATION_TOKENS = 60  # a comment's question, translated; longer ones are cut (a query)


def language_name(code: str) -> str:
    if code in NAMES:
        return NAMES[code]
    from lingua import IsoCode639_1, Language

    return str(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name.title())


def check_reply_language(setting: str, allowed: tuple[str, ...]) -> str:
    """`reply_language` as given, if it is "comment" or one of `languages`."""
    if setting != "comment" and setting not in allowed:
        raise ConfigError(f"reply_language must be \"comment\" or one of languages "
                          f"({', '.join(allowed)}), got {setting!r}")
    return setting


def reply_language(setting: str, comment: str, allowed: tuple[str, ...]) -> str:
    """The ISO code a reply to `comment` is written in."""
    from shawgpt.safety.language import language_of

    if check_reply_language(setting, allowed) != "comment":
        return setting
    if len(allowed) < 2:
        return allowed[0]
    found = language_of(comment, allowed)
    return found[0] if found is not None and found[0] in allowed else allowed[0]


def ask_for(code: str) -> str:
    """The prompt's `{language}` sentence: nothing for English."""
    return "" if code == "en" else f"\nWrite the reply in {language_name(code)}."


def translation_prompts(comments: Sequence[str], allowed: tuple[str, ...]) -> list[Prompt]:
    """For each comment, a prompt translating it into the first other language of
    `allowed` (its own language as `detect` reads it, else the first)."""
    from shawgpt.reply.prompts import neutralize

    out = []
    for comment in comments:
        own = reply_language("comment", comment, allowed)
        into = next(c for c in (*allowed, "en") if c != own)
        out.append(Prompt(
            user=neutralize(comment),
            system=f"Translate the user's message into {language_name(into)}. Write only the "
                   "translation, nothing else.", max_new_tokens=TRANSLATION_TOKENS))
    return out


def search_texts(comments: Sequence[str], translations: Sequence[str]) -> list[str]:
    """What the search reads: each comment with its translation on the next line."""
    return [f"{c}\n{t.strip()}" if t.strip() else c
            for c, t in zip(comments, translations, strict=True)]


def article_notes(parts: Parts, files: Sequence[str]) -> dict[str, str]:
    """A note for each new or changed article written in a language the settings do not
    serve: outside `languages`, or Chinese under an English-only embedder."""
    from shawgpt.models.e5_embed import SPEC as E5
    from shawgpt.safety.language import detect, han_share, parse_languages

    index = parts.open_index()
    snap = index.snapshot() if index is not None else None
    if snap is None:
        return {}
    allowed = parse_languages(parts.settings.languages)
    text: dict[str, str] = {}
    for name, chunk in zip(snap["files"], snap["texts"], strict=True):
        if name in files and len(text.get(name, "")) < 2000:
            text[name] = text.get(name, "") + " " + chunk
    notes = {}
    for name, sample in text.items():
        found = detect(sample, allowed + ("zh",))
        code = "zh" if han_share(sample) >= 0.3 else found[0] if found else ""
        if code and code not in allowed:
            name_ = found[1] if found and found[0] == code else language_name(code)
            notes[name] = (f"it reads as {name_}, outside languages ({', '.join(allowed)}): "
                           "indexed, but comments in those languages will rarely find it")
        elif code == "zh" and parts.settings.embed_model != E5:
            notes[name] = ("it reads as Chinese, and the embedder is English-only: a Chinese "
                           "question will rarely find it (use --profile multilingual and "
                           "index --full)")
    return notes
