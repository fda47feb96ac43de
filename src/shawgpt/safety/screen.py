"""Screen: deterministic checks on an incoming comment before it reaches the prompt.

A comment is a stranger's text. `screen_comment` truncates it to the length cap and names
every injection pattern it finds, each with a one-line reason: instructions to ignore or
override the prompt, requests to reveal it, role-play jailbreaks (DAN, developer mode, "no
restrictions"), "you are now …" persona swaps, goal hijacks ("just say …"), forged
chat-template turns, active HTML/Markdown, and encoded or obfuscated payloads (base64 and
hex runs, invisible or bidirectional characters, mixed-script words) — decoded base64 is
screened again. Control characters and ANSI escapes are removed, and a comment written as a
spreadsheet formula is named too (sanitize.py). A flagged comment is still answered; the
reasons make its reply `needs_review`.

It leaves out: the delimiting of the comment in the prompt (reply/prompts.py), the checks on the
reply (guard.py), and any model-based classifier — these are patterns, so a determined
attacker can phrase around them; the output checks are the second line.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field

from shawgpt.safety.sanitize import has_controls, looks_like_formula, strip_controls

_W = r"[^.!?\n]{0,60}?"  # a few words within the same sentence

# (reason, pattern) pairs; every pattern is case-insensitive and multi-line.
HEURISTICS: list[tuple[str, str]] = [
    ("asks to ignore or override the instructions",
     rf"\b(ignore|disregard|forget|override|bypass|skip|drop|abandon|nevermind|never mind)\b"
     rf"{_W}\b(previous|prior|above|earlier|preceding|following|initial|original|all|any|"
     rf"your|these|those)\b{_W}\b(instructions?|prompts?|rules|directions|directives|"
     rf"guidelines|programming|constraints|policies|commands)\b"
     r"|\b(ignore|forget|disregard)\s+(everything|all of (that|this|the above))\b"
     r"|\bstop everything\b|\bnew instructions?\s*:"),
    ("asks to reveal the prompt",
     rf"\b(reveal|show|print|repeat|output|display|tell|give|leak|dump|spell[- ]?check|"
     rf"translate|encode|summari[sz]e|copy|write out|recite|what (are|were|is))\b{_W}"
     rf"\b(system\s*(prompt|message|instructions?|configuration|config)|(initial|original|"
     rf"hidden|secret|starting|previous|above|preceding)\s+(prompt|instructions?|"
     rf"message|text|rules|configuration)|your\s+(prompt|instructions|rules|directives|"
     rf"configuration)|(prompt|instructions|text|words)\s+(above|you were given|before this))"
     r"|\b(my|your) (instructions|system prompt) (are|were|is)\s*:|\bi was (instructed|told) to\b"
     r"|\bbeginning with\b[^\n]{0,20}\byou are\b|\binitiali[sz]ation string\b"
     r"|\bsystem\s*prompt\s*(is|:)|\bconsole\.log\(\s*system"
     r"|\b(your|the) system (prompt|instructions|message)\b|\bnot supposed to (tell|say|reveal)\b"
     r"|\b(told|instructed|given) before (this|the) (conversation|chat)\b"),
    ("role-play jailbreak",
     r"\b(DAN|STAN|DUDE|AIM|ANTI-DAN)\b(?=[^\n]{0,80}\b(mode|stands for|prompt|persona|"
     r"character|jailbreak|can do|will|must|now)\b)|\bdo anything now\b|\bdeveloper mode\b|"
     r"\bjailbr(oken|eak mode)\b|\bjailbreak(ed)? (prompt|version|mode)\b|"
     r"\b(no|without( any)?|free (of|from)( any)?) (restrictions|filters|filtering|censorship|"
     r"ethics|morals|moral (compass|guidelines))\b|\b(unfiltered|amoral|unrestricted)\b|"
     r"\b(stay|remain|break|staying) (in|out of) character\b|"
     r"\b(pretend|act|role-?play)(ing)? (to be |as )(an? )?(ai|assistant|model|chatbot|bot|"
     r"character|persona|hacker|evil|unrestricted)\b|"
     r"\b(opposite|god|evil|chaos|dev|sudo|admin(istrator)?|maintenance) mode\b|"
     r"\badministrator override\b|\bimmerse yourself\b|\bhypothetical (response|story)\b|"
     r"\bi want you to (act|pretend|play|be|become|simulate|respond|answer|roleplay)\b|"
     r"\b(let'?s|i want to|we are going to|we're going to) play a game\b|"
     r"\byou will (now |always )?(act|pretend|play|simulate|become|roleplay|role-play)\b|"
     r"\bpretend (to be|you are|you're|that you)\b|\bnot bound by\b|\bnever refuse\b|"
     r"\b(do not|don't|never|dont) (refuse|say no|apologi[sz]e|break character)\b|"
     r"\bplay (two|2|three|3) (characters|roles|entities)\b|"
     r"\b(you are|you're|you will be) in the role of\b|\bstay in (the )?role\b|"
     r"\b(simulate|emulate|impersonate|personify) (a|an|the)?\s?(chatbot|ai|terminal|console|"
     r"character|persona|linux|assistant|language model|executive|person)\b|"
     r"^\W*\$?(system|rules|settings)\s*[=:{]|\$system\b|\bsettings\s*\{|"
     r"\byou are to (act|be|play|pretend|respond|answer|roleplay)\b|"
     r"\b(assistant|chatgpt|gpt|the ai|you) now (acts?|runs|works|behaves?|responds?)\b|"
     r"\b(hi|hello|hey|dear)\s+(chatgpt|gpt-?\d?|bard|claude|gemini|copilot)\b|"
     r"\b(have|do|start) a role-?play\b|\brespond to all (of )?my (questions|messages) as\b|"
     r"\b(no|without|disregards?( all)?|ignores?|free of) (moral|ethical|legal)( or (moral|"
     r"ethical|legal))? (restrictions|limits|limitations|constraints|guidelines|concerns)\b|"
     r"\bbypass(ing)?\b[^\n]{0,30}\b(limitations|restrictions|filters|safeguards)\b|"
     r"\bbehave like (him|her|them|a|an)\b|\bsimulate a conversation\b|\bfictional ai\b|"
     r"\ballow yourself to\b|\b(respond|reply|answer|talk|write)\b[^\n.]{0,30}\b(offensive|"
     r"rude|toxic|insulting|vulgar) (tone|manner|way|language)\b"),
    (_PERSONA_SWAP := "tries to change who the bot is (\"you are now …\")",
     r"\byou are (now|no longer) (a|an|in|the|called|named|acting|playing|free|bound|"
     r"restricted|required|shawgpt|dan|my new)\b|\byou are about to (immerse|become|act|play)\b"
     r"|\byou are going to (act|pretend|play)\b|\bfrom now on,? (you|your|act|respond|reply|"
     r"answer|always|only|never|ignore|speak|talk)\b|\byour new (name|role|task|goal|purpose|"
     r"persona|instructions)\b|(^|[.!:]\s*|\b(you|please|now|will|must|should)\s+)act as "
     r"(a|an|my|if)\b|\bswitch (to|into) [^\n]{0,30}\bmode\b"),
    ("tries to dictate the reply (goal hijack)",
     r"\b(just|only|simply|instead|now)\s+(say|print|write|output|type|reply|respond|answer)"
     r"\b[^\n]{0,12}[\"'“‘:]|"
     r"\b(say|print|output|write|reply|respond|answer)( only)?( with| exactly)?\s*:\s*[\"'“‘]|"
     r"\b(reply|respond|answer) (only )?with\s*[\"'“‘]|\bstart your (answer|reply|response) with\b|"
     r"\b(include|post|add|insert|put|promote) (this|the following|my) "
     r"(link|url|website|site|address)\b|\bin your (reply|response|answer)\b[^\n]{0,40}"
     r"\b(link|url|https?://|www\.)"),
    # framed as a test, a study or a game, or split over sentences (issue 25's families)
    ("tries to dictate the reply (framed as a test, a study or a game)",
     r"\brepeat (the|this|these|my|that)( sequence of)? (words?|phrases?|text|strings?|"
     r"sentences?|lines?)\b|\brepeat after me\b|\b(repeat|write|say|print|type|output)\b"
     rf"{_W}\b\d+\s*times (at the end|in your|in the (reply|answer|response))\b|"
     r"\bfor (academic|research|testing|test|study) purposes\b|"
     r"\b(for|in) (a|my|our) (study|thesis|research|experiment)\b[^\n]{0,60}\b(output|write|"
     r"say|print|repeat|reply|type|start|answer)\b|\bthis is a test of\b|"
     r"\b(your|the) whole (reply|answer|response) (is|should be|must be)\b|"
     r"\b(and|with) nothing else\b|\bdon'?t answer normally\b|\bskip your usual\b|"
     r"\bremember [A-Z] ?=|\bnote to the (reply )?(bot|ai|assistant|model)\b|"
     r"\[\s*system\s*\]\s*:|\bnew rule\b[^\n]{0,20}\b(every|each|all) (reply|answer|"
     r"response)|\b(as|in) your (answer|reply|response)\b[^\n]{0,30}\bwrite\b|"
     r"\b(type|say|write|print) [\"'“‘]?[A-Z0-9]+(-[A-Z0-9]+)+\b"),
    ("asks to ignore the instructions (in another language)",
     r"\b(ignorez|ignora|ignoriere|ignorier|ignorar|ignore suas|oubliez|olvida|vergiss|"
     r"dimentica|esque[çc]a|negeer)\b[^\n]{0,50}\b(instructions|instrucciones|istruzioni|"
     r"anweisungen|instruções|instrucoes|instructies|consignes|règles|reglas|regeln|regole|"
     r"regras)\b|忽略[^\n]{0,20}(指示|指令|说明)|игнориру\w*[^\n]{0,40}инструкци|"
     r"無視[^\n]{0,20}(指示|命令)"),
    ("contains chat-template control tokens",
     r"\[\s*/?\s*INST\s*\]|<\|[^|<>]{1,40}\|>|<<\s*/?\s*SYS\s*>>|</?\s*(comment|chunk|system|"
     r"assistant|user|instructions?)\s*>|^\s*#{1,4}\s*(system|instruction|assistant|response)"
     r"\b|^\s*(system|assistant)\s*:"),
    ("contains HTML or Markdown active content",
     r"<\s*(script|iframe|img|object|embed|svg|style|meta|form|html|body|div)\b|<a\s+href\b|"
     r"<\s*/\s*(script|a|div)\s*>|javascript\s*:|data:text/html|\bon(error|load|click|"
     r"mouse\w*)\s*=|!\[[^\]]*\]\(|\[[^\]\n]{1,80}\]\(\s*(https?:|www\.|javascript:|data:)|"
     r"&lt;\s*script"),
    ("mentions an encoding trick",
     r"\b(base-?64|rot-?13|caesar cipher|leetspeak|morse code)\b|"
     r"\b(decode|decipher|unscramble)\s+(this|the following|the (message|text|string) below)"),
]
_COMPILED = [(reason, re.compile(p, re.I | re.M)) for reason, p in HEURISTICS]
# Case matters here: "You are now Tyler" swaps the persona, "you are now my favourite" does not.
_COMPILED.append((_PERSONA_SWAP, re.compile(r"\b[Yy]ou are now (?!My\b|The\b)[A-Z][a-z]+\b")))
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{20,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}(?:\s|\\x|0x|:)?){12,}", re.I)
# Zero-width, bidirectional and Unicode-tag characters (U+200D, the emoji joiner, is allowed).
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
                        "\ufeff\U000e0000-\U000e007f]")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_WORD = re.compile(r"[^\W\d_]{3,}")
_LOOKALIKE = {"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE"}  # scripts with Latin look-alikes
# Leetspeak digits and the Cyrillic letters that look Latin, mapped back for a second look.
_LEET = str.maketrans("013457@$аеорсхуіјѕһԁАЕОРСХУІЈЅНВМТК",
                      "oieastasaeopcxyijshdAEOPCXYIJSHBMTK")
_SPACED = re.compile(r"\b(?:[A-Za-z][ .\-_*]){4,}[A-Za-z]\b")


@dataclass(frozen=True)
class Screened:
    """The comment as it will enter the prompt, and why it needs review (empty: nothing)."""

    text: str
    reasons: list[str] = field(default_factory=list)


def _scripts(word: str) -> set[str]:
    return {unicodedata.name(ch, "?").split(" ")[0] for ch in word if ch.isalpha()}


def _readable(raw: bytes) -> str:
    """`raw` as text when it reads like words (hidden instructions), else ""."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    letters = sum(ch.isalpha() or ch == " " for ch in text)
    return text if len(text) >= 8 and " " in text and letters / len(text) > 0.75 else ""


def _hidden_texts(text: str) -> list[tuple[str, str]]:
    """(encoding, decoded text) for every base64 or hex run that decodes to words."""
    out: list[tuple[str, str]] = []
    for m in _BASE64.finditer(text):
        try:
            raw = base64.b64decode(m.group(0) + "=" * (-len(m.group(0)) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if decoded := _readable(raw):
            out.append(("base64", decoded))
    for m in _HEX.finditer(text):
        digits = re.sub(r"\\x|0x|[\s:]", "", m.group(0), flags=re.I)
        if decoded := _readable(bytes.fromhex(digits[: len(digits) // 2 * 2])):
            out.append(("hex", decoded))
    return out


def _deobfuscated(text: str) -> str:
    """Leetspeak and look-alike letters undone, s p a c e d letters joined."""
    joined = _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), text)
    return joined.translate(_LEET)


def injection_reasons(text: str, depth: int = 0) -> list[str]:
    """The reasons this text looks like an injection attempt, in a fixed order, no repeats."""
    reasons: list[str] = []

    def add(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    flat = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    for reason, pattern in _COMPILED:
        if pattern.search(flat):
            add(reason)
    plain = _deobfuscated(flat) if depth == 0 else flat
    if plain != flat:  # the same text again could match nothing new (half of the cost)
        for reason, pattern in _COMPILED:
            if reason not in reasons and pattern.search(plain):
                add(f"{reason} (obfuscated)")
    if _INVISIBLE.search(text):
        add("contains invisible or bidirectional control characters")
    # an all-ASCII word is Latin alone: only the others can mix alphabets
    if any(not w.isascii() and "LATIN" in _scripts(w) and _scripts(w) & _LOOKALIKE
           for w in _WORD.findall(flat)):
        add("mixes alphabets inside a word (homoglyphs)")
    for encoding, hidden in _hidden_texts(_URL.sub(" ", flat)):
        add(f"contains a {encoding}-encoded message")
        if depth == 0:
            for r in injection_reasons(hidden, depth + 1):
                add(f"{r} (inside {encoding})")
    escapes = re.findall(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|%[0-9a-f]{2}|&#x?[0-9a-f]+;",
                         _URL.sub(" ", flat), re.I)
    if len(escapes) >= 3:
        add("contains escaped or percent-encoded characters")
    return reasons


def screen_comment(text: str, max_chars: int, scan: bool = True) -> Screened:
    """Remove control characters, truncate to `max_chars` (both flagged) and collect the
    injection reasons of what is kept: the cut part never reaches a prompt, and a truncated
    comment is held for a person anyway (scanning a 5 MB cell whole took 80 s). `scan`
    False: the text alone, as `finetune` renders past comments (100,000 scans: 30 s)."""
    reasons: list[str] = []
    if has_controls(text):
        text = strip_controls(text).strip()
        reasons.append("contains control characters or terminal escape codes (removed)")
    if looks_like_formula(text):
        reasons.append("starts like a spreadsheet formula (written to CSV with a leading ')")
    truncated = max_chars > 0 and len(text) > max_chars
    if truncated:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars * 0.8 else cut).rstrip() + " …"
    if scan:
        reasons += injection_reasons(text)
    if truncated:
        reasons.append(f"comment over {max_chars} characters was truncated")
    return Screened(text, reasons)
