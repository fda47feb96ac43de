"""The `models` and `cache` commands: what the models are and what their caches cost.

Like commands.py, each only parses, calls one core function (models/inventory.py,
models/caches.py) and prints; `register` adds them to the app. Neither loads a model.
"""

from __future__ import annotations

from typing import Annotated

import typer

from shawgpt.cli.exits import handled, shown
from shawgpt.config import load_settings

HEADINGS = {"generator": "Generators:", "embeddings": "Embedding models:",
            "adapter": "Adapters:"}


@handled
def models(ctx: typer.Context) -> None:
    """List every model and adapter: where it loads from, its size, whether its sha256 is
    checked, and what its caches cost on disk. Loads no model.

    Example: shawgpt models
    """
    from shawgpt.models.inventory import human
    from shawgpt.models.inventory import models as inventory

    s = load_settings(ctx.obj)
    role = ""
    for m in inventory(s):
        if m.role != role:
            role = m.role
            typer.echo(HEADINGS[role])
        users = f"  (used by {', '.join(m.used_by)})" if m.used_by else ""
        typer.echo(shown(f"  {m.spec}{users}"))
        typer.echo(shown(f"    from: {m.source}"))
        typer.echo(f"    size: {human(m.size)}; verified: {'yes' if m.verified else 'no'} "
                   f"({m.check})")
        where = ", ".join(str(c.path.relative_to(s.cache_path)) for c in m.caches)
        typer.echo(shown(f"    cached: {human(m.disk)} in {where}" if where else
                         "    cached: nothing"))
    typer.echo(shown(f"Cache folder: {s.cache_path} (`shawgpt cache` lists it)"))


@handled
def cache(
    ctx: typer.Context,
    clean: Annotated[bool, typer.Option(
        "--clean", help="Remove every cache these settings do not use.")] = False,
) -> None:
    """List the engines' caches (folder, size, what each is for, whether these settings use
    it); --clean removes the ones they do not use, never one in use.

    A removed cache is built again when a setting needs it (a generator's takes ~1 min).

    Example: shawgpt cache --clean
    """
    from shawgpt.models import caches
    from shawgpt.models.inventory import human

    s = load_settings(ctx.obj)
    if clean:
        removed, failed = caches.clean(s)
        for c in removed:
            typer.echo(shown(f"removed {c.path.relative_to(s.cache_path)} ({human(c.size)}, "
                             f"{c.kind}: {c.model})"))
        for c, why in failed:
            typer.echo(shown(f"could not remove {c.path}: {why}"))
        typer.echo(f"Freed {human(sum(c.size for c in removed))} "
                   f"({len(removed)} removed; what these settings use is kept).")
        if failed:
            raise typer.Exit(1)
        return
    found = caches.inventory(s)
    typer.echo(shown(f"Caches in {s.cache_path}: {len(found)}, "
                     f"{human(sum(c.size for c in found))}"))
    for c in found:
        state = ("in use" if c.in_use else "left alone" if c.kind == "other" else "not used")
        detail = ", ".join(x for x in (c.engine, f"adapter {c.adapter}" if c.adapter else "")
                           if x)
        typer.echo(shown(f"  {state:<10} {human(c.size):>10}  "
                         f"{c.path.relative_to(s.cache_path)}: {c.kind}, {c.model}"
                         f"{f' ({detail})' if detail else ''}"))
    spare = [c for c in found if c.removable]
    if spare:
        typer.echo(f"{len(spare)} not used by these settings ({human(sum(c.size for c in spare))}"
                   "): `shawgpt cache --clean` removes them.")


def register(app: typer.Typer) -> None:
    app.command()(models)
    app.command()(cache)
