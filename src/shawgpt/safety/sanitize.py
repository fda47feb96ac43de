"""Sanitize: make stranger-supplied text safe to print on a terminal and to open in a spreadsheet.

Control characters (C0 but tab, newline and carriage return; DEL; C1) and whole ANSI escape
sequences are what a terminal acts on: `strip_controls` removes them (the text a prompt gets),
`escape_controls` writes each as a visible `\\xNN` (what a file or the terminal gets, so
nothing is lost). `defuse_cell` follows OWASP's advice on CSV injection: a cell that starts
with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a spreadsheet shows it
as text instead of running it; plain numbers (`-5`, `+3.2`) are left as they are.
`looks_like_formula` is the narrower test for flagging a comment (`@name thanks` is not one).

By hand rather than with `defusedcsv`: that library leaves cells starting with tab or CR
unescaped (OWASP lists both) and rewrites every `|` inside a cell to `\\|`, which changes the
text. It leaves out deciding where these apply (csvio.py writes, screen.py flags, cli/exits.py
prints).
"""

from __future__ import annotations

import re

# An ANSI sequence as a whole (CSI ... final byte, OSC ... BEL/ST), then any lone control.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                   r"|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d[\d,.]*|\.\d+)([eE][+-]?\d+)?%?")
# `=` and something to compute, or `+ - @` and a function call or a DDE pipe anywhere after
_FORMULA = re.compile(r"=\s*[\w\"'(+\-@]|[+\-@][^\n]*?([A-Za-z_][\w.]*\(|\|)")


def has_controls(text: str) -> bool:
    return bool(_CONTROL.search(text))


def strip_controls(text: str) -> str:
    """The text without ANSI sequences or control characters (tab and newlines stay)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def escape_controls(text: str) -> str:
    """Every control character written as a visible `\\xNN`; tab and newlines stay."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def json_safe(text: str) -> str:
    """JSON text with DEL and C1 controls as `\\u00NN` too (json.dumps escapes only C0);
    they can only stand inside strings, so the JSON stays valid."""
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group(0)):04x}", text)


def defuse_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not evaluate (OWASP: a leading `'`)."""
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def looks_like_formula(text: str) -> bool:
    """A comment written as a spreadsheet formula: `=...`, `+cmd|...`, `@SUM(...)`."""
    return bool(_FORMULA.match(text.lstrip(" ")))
