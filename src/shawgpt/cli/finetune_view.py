"""What `shawgpt finetune` shows: rich progress bars on stderr and the closing lines.

One bar while the prompts are rendered (retrieval for every comment), one while training,
with the running loss and the time left (rich's estimate from the pairs done so far), on a
terminal; everywhere, a line per epoch with both losses and one with the estimated time left
once the first steps are timed. It leaves the work itself to finetune.py.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shawgpt.models.finetune import Events
    from shawgpt.voice.finetune import FinetuneReport


class TrainingView:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TextColumn("left"),
            TimeRemainingColumn(), console=self.console, transient=False,
            # a live display to a file or pipe holds every line back until it stops
            disable=not self.console.is_terminal)
        self._prep: Any = None
        self._train: Any = None
        self.epochs = 0

    def __enter__(self) -> TrainingView:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.stop()

    def preparing(self, done: int, total: int) -> None:
        if self._prep is None:
            self._prep = self.progress.add_task("Rendering prompts", total=total, loss="")
        self.progress.update(self._prep, completed=done)

    def _line(self, text: str) -> None:
        self.progress.console.print(text, soft_wrap=True, highlight=False, markup=False)

    def events(self) -> Events:
        from shawgpt.models.finetune import Events

        def start(pairs: int, total: int) -> None:
            self.epochs = max(1, total // max(pairs, 1))
            self._train = self.progress.add_task(
                f"Training ({self.epochs} epochs)", total=total, loss="loss -")

        def step(done: int, loss: float) -> None:
            self.progress.update(self._train, completed=done, loss=f"loss {loss:.3f}")

        def epoch(n: int, train: float, val: float, best: bool) -> None:
            mark = " (best so far)" if best else ""
            self._line(f"epoch {n}/{self.epochs}: train loss {train:.3f}, "
                       f"validation loss {val:.3f}{mark}")

        def estimate(seconds: float, tokens_s: float) -> None:
            if seconds > 0:
                self._line(f"estimate: {_duration(seconds)} more for all epochs at "
                           f"{tokens_s:.0f} tokens/s")

        return Events(start=start, step=step, epoch=epoch, estimate=estimate)

    @staticmethod
    def summary(report: FinetuneReport) -> list[str]:
        """Lines for stderr, then the last line (stdout, or stderr when interrupted)."""
        out, name = report.outcome, report.name
        if not report.saved:
            if not out.interrupted:
                return [f"Adapter {name!r} unchanged: no epoch of this run beat it."]
            return [f"Interrupted before the first step ended: nothing saved (an earlier "
                    f"adapter {name!r}, if any, is unchanged)."]
        if out.partial:
            return [f"Interrupted: saved adapter {name!r} after {out.partial} pairs of the "
                    f"first epoch (not validated yet); continue with --resume --name {name}."]
        before, after = out.val_before, out.val_after
        change = (after - before) / before * 100 if before else 0.0
        tokens_s = out.tokens / max(out.seconds, 1e-9)
        lines = [f"{out.tokens} tokens trained in {out.seconds:.0f} s "
                 f"({tokens_s:.0f} tokens/s, {out.reply_tokens} of them reply tokens)"]
        if after >= before:
            lines.append("warning: no epoch brought the validation loss below the base "
                         "model's; the adapter is saved but may not help")
        epochs = len(out.val_losses)
        head = "Interrupted: saved" if out.interrupted else "Saved"
        lines.append(f"{head} adapter {name!r} to {report.folder}: validation loss "
                     f"{before:.3f} -> {after:.3f} ({change:+.0f}%), epoch "
                     f"{out.best_epoch} of {epochs} kept. Use it with --adapter {name}"
                     + (f", or continue with --resume --name {name}." if out.interrupted
                        else "."))
        return lines


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes / 60:.1f} h" if minutes >= 90 else f"{max(minutes, 0.1):.1f} min"
