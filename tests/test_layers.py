"""The folder tree is the flow: each stage imports only the stages its __init__ names.

Read from the source with ast (nothing is imported), so a new import that runs from a lower
stage up to a higher one fails here with the file and the module it named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shawgpt"
BASE = ("shawgpt.config", "shawgpt.errors")
EMBEDDERS = ("shawgpt.models.embed",)
# What each stage may import of shawgpt, besides itself.
ALLOWED = {
    "models": BASE,
    "index": BASE + EMBEDDERS,
    "retrieval": BASE + EMBEDDERS + ("shawgpt.index",),
    "safety": BASE + ("shawgpt.index.store", "shawgpt.models.base"),
    "batch": None,  # anything but the shell
    "review": None,  # batch and everything below it, never the shell
    "youtube": None,  # batch (files, history) and below; never the shell or review
}
# Stages that may import anything but the shell, and these besides.
NEVER = {"youtube": ("shawgpt.review",)}
SHELL = ("shawgpt.cli", "shawgpt.cli_more", "shawgpt.cli_youtube", "shawgpt.exits")


def shawgpt_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [m for m in found if m == "shawgpt" or m.startswith("shawgpt.")]


def under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stage_imports_only_what_its_init_names(stage: str) -> None:
    allowed = ALLOWED[stage]
    wrong = []
    for path in sorted((SRC / stage).glob("*.py")):
        for module in shawgpt_imports(path):
            if under(module, (f"shawgpt.{stage}",)):
                continue
            bad = (under(module, SHELL + NEVER.get(stage, ())) if allowed is None
                   else not under(module, allowed))
            if bad:
                wrong.append(f"{path.relative_to(SRC)} imports {module}")
    assert wrong == []


def test_every_stage_says_what_it_does_and_must_not_import() -> None:
    for stage in ALLOWED:
        doc = ast.get_docstring(ast.parse((SRC / stage / "__init__.py").read_text()))
        assert doc and "never" in doc, stage


def test_settings_and_errors_import_nothing_above_them() -> None:
    assert shawgpt_imports(SRC / "errors.py") == []
    assert set(shawgpt_imports(SRC / "config.py")) <= {"shawgpt.errors", "shawgpt.config_checks"}
    assert set(shawgpt_imports(SRC / "config_checks.py")) <= {"shawgpt.errors", "shawgpt.config"}
