"""Exits: how a command ends, and what reaches the terminal, in one place for every command.

handled() turns a ShawGPTError into one line `Error: …` on stderr and exit 1, Ctrl-C into
exit 130, and a bug into one line plus its traceback saved to a file, while Typer's own
usage errors and exits pass through. run_and_exit() is the console entry's last step.
Everything printed from a stranger's text goes through shown() or json_text(), so a comment's
terminal escapes never act; third-party warnings stay off the screen unless --verbose, and
shawgpt's own log lines go to stderr only with -v (INFO) or -vv (DEBUG), for that one
command (show_logs). Parsing and printing results stay in cli.py.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from shawgpt.errors import ShawGPTError

F = TypeVar("F", bound=Callable[..., Any])
# Usage errors and deliberate exits pass through for Typer to print and exit with. Typer 0.29
# vendors its own click, so these are typer's classes, not the `click` package's.
_PASS_THROUGH: tuple[type[BaseException], ...] = (
    typer.Exit, typer.Abort, typer.exceptions.TyperException)


def quiet_warnings() -> None:
    """Keep third-party warnings (transformers' FutureWarnings...) off the user's terminal,
    here and in the child processes that inherit the environment; --verbose shows them."""
    import os
    import warnings

    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler that writes to sys.stderr as it is when a line is logged, not as it was when
    the handler was made: CliRunner swaps stderr for each command it invokes."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # under the handler's lock (Handler.handle)
        super().emit(record)


def show_logs(verbosity: int) -> Callable[[], None]:
    """Log shawgpt's own lines (the `shawgpt` logger tree) to stderr: INFO for -v, DEBUG for
    -vv. Returns the undo, run when the command ends, so one command's -v never makes a later
    command in the same process (a test's CliRunner) chatty. Without -v nothing is touched:
    stderr stays exactly as it was (tests compare it whole)."""
    logger = logging.getLogger("shawgpt")
    before = (logger.level, logger.propagate)
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity < 2 else logging.DEBUG)
    logger.propagate = False  # once on stderr is enough, whatever the root logger has

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]

    return undo


def shown(text: str) -> str:
    """Text for the terminal: control characters made visible (sanitize.py)."""
    from shawgpt.safety.sanitize import escape_controls

    return escape_controls(text)


def json_text(obj: Any) -> str:
    """Indented JSON for the terminal, DEL and C1 escaped too."""
    import json

    from shawgpt.safety.sanitize import json_safe

    return json_safe(json.dumps(obj, ensure_ascii=False, indent=2))


def err(text: str) -> None:
    """One message on stderr, its control characters made visible (a file name, a column or
    a comment may carry terminal escapes)."""
    typer.echo(shown(text), err=True)


def handled(fn: F) -> F:
    """Translate user-facing errors into one line and exit code 1, once for all commands."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ShawGPTError as exc:
            err(f"Error: {exc}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err("Interrupted.")
            raise typer.Exit(130) from None
        except _PASS_THROUGH:
            raise
        except Exception as exc:  # a bug: one line for the user, the traceback kept in a file
            err(f"Error: unexpected {type(exc).__name__}: {_one_line(exc)} "
                 f"(details in {_save_traceback()})")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no message"


def _save_traceback() -> str:
    """Write the current traceback where a bug report can pick it up."""
    import os
    import tempfile
    import traceback

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for folder in (os.path.join(base, "shawgpt"), tempfile.gettempdir()):
        try:
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, "last-error.txt")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(traceback.format_exc())
            return path
        except OSError:
            continue
    return "no writable folder"


def run_and_exit(app: Callable[[], Any]) -> None:
    """Run the Typer app as the console entry, then leave through os._exit once the output
    is flushed: the interpreter's teardown (torch unloading its libraries and thread pools)
    adds ~0.3 s to every command that ran a model. Nothing is lost by skipping it: whatever
    shawgpt writes is closed, and fsynced where it matters, before its command returns, and
    Chroma commits its writes as they are made (the crash tests kill -9 a writer anyway)."""
    import contextlib
    import logging
    import os

    try:
        app()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`| head`): nothing more to deliver
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)
