"""The review screen (Textual): one comment at a time, a key per decision.

Shows the comment, the current candidate reply (k of m, and where it came from), batch's
status and reasons, the decision so far, the sources (file, page, score; `t` quotes their
text), a progress line and the keys. Every decision goes through session.py, which writes
the journal before the screen changes; edits, regenerations and quotes run through
replier.py in a worker thread, so the screen stays live while the model works. `q` (or
Ctrl-Q) writes OUT and leaves; so does deciding the last row. A terminal smaller than
MIN_SIZE ends the app at once with `error` set (the CLI prints it). It leaves the CLI's
checks (a TTY, the size before starting) to the command line (cli/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static, TextArea

from shawgpt.errors import ShawGPTError
from shawgpt.review.replier import Replier
from shawgpt.review.session import Session

MIN_SIZE = (70, 20)  # columns, lines: below this the comment and reply do not fit
KEYS = ("a approve  e edit  g regenerate  r reject  s skip  f skip forever  u undo\n"
        "n/p next/previous  j next needs_review  c next candidate  t quote sources  "
        "w write OUT  q quit")
EDIT_KEYS = "Editing: ctrl+s checks and saves the text as a new candidate, escape cancels"


def too_small(width: int, height: int) -> str | None:
    if width >= MIN_SIZE[0] and height >= MIN_SIZE[1]:
        return None
    return (f"the terminal is {width}x{height}; review needs at least "
            f"{MIN_SIZE[0]}x{MIN_SIZE[1]} (columns x lines)")


class ReviewApp(App[None]):
    TITLE = "shawgpt review"
    CSS = """
    #progress { height: 1; padding: 0 1; background: $primary; color: $text; }
    #body { height: 1fr; }
    .box { height: auto; border: round $secondary; padding: 0 1; }
    #editor { height: 8; display: none; }
    #notice { height: 1; padding: 0 1; color: $warning; }
    #keys { height: 2; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "approve"), Binding("e", "edit", "edit"),
        Binding("g", "regenerate", "regenerate"), Binding("r", "reject", "reject"),
        Binding("s", "skip", "skip"), Binding("f", "skip_forever", "skip forever"),
        Binding("u", "undo", "undo"), Binding("n", "move(1)", "next"),
        Binding("p", "move(-1)", "previous"), Binding("j", "jump", "next needs_review"),
        Binding("c", "candidate", "next candidate"), Binding("t", "quote", "quote sources"),
        Binding("w", "write", "write OUT"), Binding("q", "quit", "quit"),
        Binding("ctrl+s", "save_edit", "save edit", priority=True),
        Binding("escape", "cancel_edit", "cancel edit"),
    ]
    _WHILE_EDITING = frozenset({"save_edit", "cancel_edit", "quit"})

    def __init__(self, session: Session, replier: Replier | None = None) -> None:
        super().__init__()
        self.session, self.replier = session, replier
        self.error: str | None = None  # why the app could not run (the CLI prints it)
        self.editing = False
        self.write_failed = False  # a failed write of OUT lets the next q quit anyway
        self.busy = ""  # the model job running, if any
        self.quoting: set[int] = set()  # rows whose source text is shown
        self.notice = ("Resumed: " + session.progress()) if session.journal.records else ""
        if session.journal.torn:
            self.notice = "The journal's last line was cut off (a crash mid-write); ignored."

    def compose(self) -> ComposeResult:
        yield Static(id="progress")
        with VerticalScroll(id="body"):
            yield Static(id="comment", classes="box")
            yield Static(id="reply", classes="box")
            yield TextArea(id="editor", soft_wrap=True)
            yield Static(id="status", classes="box")
            yield Static(id="sources", classes="box")
        yield Static(id="notice")
        yield Static(KEYS, id="keys")

    def on_mount(self) -> None:
        self.error = too_small(self.size.width, self.size.height)
        if self.error:
            self.exit(return_code=1)
            return
        self.query_one("#status", Static).border_title = "Checks"
        self.query_one("#sources", Static).border_title = "Sources"
        self.refresh_view()

    def on_resize(self, event: Any) -> None:
        why = too_small(event.size.width, event.size.height)
        if why and not self.error and self.query("#notice"):  # once composed
            self.say(f"Make the terminal larger: {why}.")

    # -- showing --------------------------------------------------------------------------

    def refresh_view(self) -> None:
        s, item = self.session, self.session.item
        cand = item.candidate
        self.query_one("#progress", Static).update(Text(
            f"{s.pos + 1} of {len(s.queue)} · row {item.row + 1} of {s.out.path.name} · "
            f"{s.progress()}"))
        comment = self.query_one("#comment", Static)
        comment.border_title = f"Comment (row {item.row + 1})"
        comment.update(Text(item.comment))
        reply = self.query_one("#reply", Static)
        reply.border_title = (f"Reply: candidate {item.current + 1} of {len(item.candidates)}"
                              f" ({cand.origin})")
        reply.update(Text(cand.reply or "(no text)"))
        decision = item.decision.replace("_", " ") if item.decision else "undecided"
        was = f" (batch said {item.status})" if cand.status != item.status else ""
        lines = [f"status: {cand.status}{was}    decision: {decision}"]
        lines += [f"reason: {r}" for r in cand.reasons]
        self.query_one("#status", Static).update(Text("\n".join(lines)))
        self.query_one("#sources", Static).update(Text(self._sources_text(item.row)))
        self.query_one("#notice", Static).update(Text(self.notice))
        self.query_one("#keys", Static).update(EDIT_KEYS if self.editing else KEYS)
        if self.replier is not None and not item.decision:
            # with a warm server, the candidate `g` would ask for is made while one reads
            self.replier.ahead(item.comment, len(item.candidates))

    def _sources_text(self, row: int) -> str:
        listed = self.session.items[row].sources or "none"
        evidence = self.session.out.evidence(row)
        if evidence:  # each sentence of the answer and the article sentence it rests on
            listed += "\nevidence: " + evidence.replace(" | ", "\nevidence: ")
        if row not in self.quoting or self.replier is None:
            return f"sources: {listed}"
        found = self.replier.quoted(self.session.items[row].comment)
        if found is None:
            return f"sources: {listed}\n(quoting…)"
        quotes = [f"{x.file}{f' p.{x.page}' if x.page else ''} ({x.score:.2f}): "
                  f"\u201c{' '.join(x.text.split())[:400]}\u201d" for x in found]
        return "sources:\n" + ("\n".join(quotes) or "none passed the cutoff")

    def say(self, text: str) -> None:
        self.notice = text
        self.refresh_view()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.editing:
            return action in self._WHILE_EDITING
        return action not in ("save_edit", "cancel_edit")

    # -- deciding -------------------------------------------------------------------------

    def _write(self) -> bool:
        """Write OUT; on failure say so (the journal still has every decision)."""
        try:
            self.session.write()
        except ShawGPTError as exc:
            self.write_failed = True
            self.say(f"Error: {exc}; every decision is in the journal (q again quits).")
            return False
        return True

    def _decided(self, message: str) -> None:
        if self.session.finished:
            if not self._write():
                return
            message += (f" All {len(self.session.queue)} reviewed; wrote "
                        f"{self.session.out.path.name} (u undoes, q quits).")
        self.say(message)

    def action_approve(self) -> None:
        self._decided(self.session.approve())

    def action_reject(self) -> None:
        self._decided(self.session.reject())

    def action_skip_forever(self) -> None:
        self._decided(self.session.skip_forever())

    def action_skip(self) -> None:
        self.say(self.session.skip())

    def action_undo(self) -> None:
        self.say(self.session.undo())

    def action_move(self, step: int) -> None:
        self.session.move(step)
        self.say("")

    def action_jump(self) -> None:
        self.say(self.session.jump_to_review())

    def action_candidate(self) -> None:
        self.say(self.session.next_candidate())

    def action_write(self) -> None:
        if self._write():
            self.say(f"Wrote {self.session.out.path.name} ({self.session.progress()}).")

    async def action_quit(self) -> None:
        if self.write_failed or self._write():
            self.exit()

    # -- editing --------------------------------------------------------------------------

    def action_edit(self) -> None:
        editor = self.query_one("#editor", TextArea)
        editor.text = self.session.item.candidate.reply
        editor.display = True
        self.editing = True
        editor.focus()
        self.say("")

    def action_cancel_edit(self) -> None:
        self._close_editor()
        self.say("Edit cancelled; nothing changed.")

    def _close_editor(self) -> None:
        editor = self.query_one("#editor", TextArea)
        editor.display = False
        self.editing = False
        self.set_focus(None)

    def action_save_edit(self) -> None:
        item, text = self.session.item, self.query_one("#editor", TextArea).text
        if not text.strip():
            self.say("The edit is empty: type the reply, or escape to cancel.")
            return

        def done(rep: Any) -> None:
            if not rep.reply:  # blocked or nothing usable: the text stays in the editor
                self.say("Not saved: " + "; ".join(rep.reasons))
                return
            self._close_editor()
            self.session.add_candidate(item.row, rep.reply, rep.status, rep.reasons, "edit")
            self.say(f"Edit checked and saved: {rep.status}"
                     + (f" ({'; '.join(rep.reasons)})" if rep.reasons else "")
                     + ". a approves it.")

        self._model_job("checking the edit", lambda r: r.check(item.comment, text), done)

    # -- the model ------------------------------------------------------------------------

    def action_regenerate(self) -> None:
        item = self.session.item
        draft = len(item.candidates)  # 1, 2, …: another sampled alternative each time

        def done(rep: Any) -> None:
            if not rep.reply:
                self.say(f"No new candidate: {'; '.join(rep.reasons) or 'nothing usable'}.")
            elif self.session.add_candidate(item.row, rep.reply, rep.status, rep.reasons,
                                            "regenerate"):
                n = len(item.candidates)
                self.say(f"Row {item.row + 1}: new candidate {n} of {n} ({rep.status}).")
            else:
                self.say("No new candidate: the backend gave a reply this row already has.")

        self._model_job("regenerating", lambda r: r.regenerate(item.comment, draft), done)

    def action_quote(self) -> None:
        row = self.session.item.row
        if row in self.quoting:
            self.quoting.discard(row)
            self.say("")
            return
        self.quoting.add(row)
        comment = self.session.item.comment
        self._model_job("quoting the sources", lambda r: r.sources(comment),
                        lambda _found: self.say(""))

    def _model_job(self, what: str, call: Callable[[Replier], Any],
                   done: Callable[[Any], None]) -> None:
        if self.replier is None:
            self.say(f"Cannot start {what}: no model in this review.")
            return
        if self.busy:
            self.say(f"Busy {self.busy}; try again when it is done.")
            return
        self.busy = what
        self.say(f"{what[0].upper()}{what[1:]}…")
        replier = self.replier

        def work() -> None:
            try:
                result = call(replier)
            except ShawGPTError as exc:
                self.call_from_thread(self._job_failed, f"Error: {exc}")
                return
            self.call_from_thread(self._job_done, done, result)

        self.run_worker(work, thread=True, group="model")

    def _job_done(self, done: Callable[[Any], None], result: Any) -> None:
        self.busy = ""
        done(result)

    def _job_failed(self, message: str) -> None:
        self.busy = ""
        self.say(message)
