"""The folder tree is the flow: each stage imports only the stages its __init__ names, and
a folder inside a stage (models/engine) only what its own __init__ names.

Read from the source with ast (nothing is imported), so a new import that runs from a lower
stage up to a higher one fails here with the file and the module it named, and so does any
circle of modules importing each other, at the top of a file or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shawgpt"
# the base every stage may import: settings, errors and the one sentence splitter
BASE = ("shawgpt.config", "shawgpt.errors", "shawgpt.text")
EMBEDDERS = ("shawgpt.models.embed",)
BELOW_REPLY = BASE + ("shawgpt.models", "shawgpt.index", "shawgpt.retrieval", "shawgpt.safety",
                      "shawgpt.tables", "shawgpt.answer")
# What each stage may import of shawgpt, besides itself; None: anything but NEVER[stage].
ALLOWED: dict[str, tuple[str, ...] | None] = {
    "config": ("shawgpt.errors",),
    "text": ("shawgpt.errors",),
    "models": BASE,
    "index": BASE + EMBEDDERS,
    "retrieval": BASE + EMBEDDERS + ("shawgpt.index",),
    "safety": BASE + ("shawgpt.index.store", "shawgpt.models.base"),
    "tables": BASE + ("shawgpt.safety.sanitize",),
    # an answer from the article's own sentences: above the checks, below the reply
    "answer": BASE + ("shawgpt.index.store", "shawgpt.models.base", "shawgpt.retrieval",
                      "shawgpt.safety"),
    # the creator's past replies as examples are reply's own (reply/examples.py), read with
    # tables (tables/pairs.py): reply imports nothing of voice/, which sits above it
    "reply": BELOW_REPLY,
    "batch": BELOW_REPLY + ("shawgpt.reply",),
    "review": BELOW_REPLY + ("shawgpt.reply", "shawgpt.batch"),
    "voice": BELOW_REPLY + ("shawgpt.reply",),
    "youtube": BELOW_REPLY + ("shawgpt.reply", "shawgpt.batch"),
    "cli": None,  # the top: anything
}
# A folder inside a stage: what it may import of shawgpt, besides itself (a narrower rule
# than its stage's, which holds for it too).
INSIDE: dict[str, tuple[str, ...]] = {
    # the engine sits under the backends that use it (generate, openvino_llm, …): it builds
    # from the model files and imports none of them
    "models/engine": ("shawgpt.errors", "shawgpt.models.adapters", "shawgpt.models.catalog",
                      "shawgpt.models.local_llm"),
}


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


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_lies_loose_at_the_top() -> None:
    loose = sorted(p.name for p in SRC.glob("*.py"))
    assert loose == ["__init__.py", "errors.py"]


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stage_imports_only_what_its_init_names(stage: str) -> None:
    allowed = ALLOWED[stage]
    wrong = []
    for path in sorted((SRC / stage).rglob("*.py")):
        for module in shawgpt_imports(path):
            if allowed is None or under(module, (f"shawgpt.{stage}",)):
                continue
            if not under(module, allowed):
                wrong.append(f"{path.relative_to(SRC)} imports {module}")
    assert wrong == []


@pytest.mark.parametrize("folder", sorted(INSIDE))
def test_a_folder_inside_a_stage_imports_only_what_its_init_names(folder: str) -> None:
    own = "shawgpt." + folder.replace("/", ".")
    wrong = [f"{path.relative_to(SRC)} imports {module}"
             for path in sorted((SRC / folder).rglob("*.py"))
             for module in shawgpt_imports(path)
             if not under(module, (own,) + INSIDE[folder])]
    assert wrong == []


def test_the_engine_rule_names_no_backend() -> None:
    backends = ("shawgpt.models.generate", "shawgpt.models.openvino_llm",
                "shawgpt.models.transformers_llm", "shawgpt.models.openai_llm")
    assert not any(under(b, INSIDE["models/engine"]) for b in backends)


def test_every_stage_is_a_folder_in_the_table() -> None:
    folders = {p.parent.name for p in SRC.glob("*/__init__.py")}
    assert folders == set(ALLOWED)
    inside = {p.parent.relative_to(SRC).as_posix() for p in SRC.glob("*/*/__init__.py")}
    assert inside == set(INSIDE)


def test_every_stage_says_what_it_does_and_must_not_import() -> None:
    for stage in (*ALLOWED, *INSIDE):
        doc = ast.get_docstring(ast.parse((SRC / stage / "__init__.py").read_text()))
        assert doc and "never" in doc, stage


def test_errors_import_nothing_of_shawgpt() -> None:
    assert shawgpt_imports(SRC / "errors.py") == []


def graph() -> dict[str, set[str]]:
    """Module -> the modules of shawgpt it imports (a package's name means its __init__)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    return {name: {m for m in shawgpt_imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk, each as the modules along it."""
    found, state = [], dict.fromkeys(edges, 0)  # 0 unseen, 1 on the path, 2 done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state[nxt] == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif state[nxt] == 0:
                walk(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if state[node] == 0:
            walk(node, [node])
    return found


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert circles(graph()) == []


def test_the_circle_check_finds_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(edges) == [["a", "b", "c", "a"]]
