"""The decisions of one review: what each row's candidates and decision are, in what order.

A Session replays the review journal (journal.py) over OUT's rows, then applies each new
decision the same way after writing it to the journal, so what is on screen is always what
is on disk. The queue is `needs_review` rows first, then `ok`, then `error` (in file
order); `skipped` rows (empty or already answered) have nothing to review. Each row keeps
every candidate it had (batch's reply, edits, regenerated ones) to pick from. Approving and
skipping forever go to the shared history (batch/history.py) at once, so a later `batch`
does not answer the comment again; undo takes back the last decision, in the history too
(an `undone` record). It leaves the screen to app.py, checking and generating text to
replier.py, and OUT's format to output.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.batch.history import History
from shawgpt.review.journal import ReviewJournal, hashes_differ, journal_path, set_aside
from shawgpt.review.output import OutFile, load_out, write_out

ORDER = ("needs_review", "ok", "error")
TO_HISTORY = ("approved", "skipped_forever")  # decisions that mean "answered, never again"


@dataclass
class Candidate:
    reply: str
    status: str
    reasons: list[str] = field(default_factory=list)
    origin: str = "batch"  # batch | writer | extract | defer (batch's others) | edit | regenerate


@dataclass
class Item:
    row: int  # position in OUT
    comment: str
    status: str  # what batch said
    sources: str
    candidates: list[Candidate]
    current: int = 0
    decision: str | None = None  # approved | rejected | skipped_forever
    final: str = ""  # the reply approved
    skipped: bool = False  # passed over with `skip` (resume starts after it)

    @property
    def candidate(self) -> Candidate:
        return self.candidates[self.current]


class Session:
    """Open with `open_session`; every method that decides writes the journal first."""

    def __init__(self, out: OutFile, journal: ReviewJournal, history: History) -> None:
        self.out, self.journal, self.history = out, journal, history
        replies = journal.header["replies"]
        self.items: dict[int, Item] = {}
        for i in range(len(out)):
            first = Candidate(replies[i], out.cell(i, "status"), out.reasons(i))
            # a question's other replies from batch: the writer's, the article's, a deferral
            others = [Candidate(c["reply"], str(c.get("status", "needs_review")),
                                [str(r) for r in c.get("reasons", [])],
                                str(c.get("origin", "batch")))
                      for c in out.candidates(i) if c["reply"] != first.reply]
            self.items[i] = Item(i, out.comment(i), first.status, out.sources(i),
                                 [first, *others])
        self.queue = [i for status in ORDER for i in self.items if self.items[i].status == status]
        self._undo: list[tuple[int, str | None, str]] = []  # (row, decision, final) before
        for rec in journal.records:
            self._apply(rec)
        self._reconcile_history()
        self.pos = self._resume_at()

    # -- reading --------------------------------------------------------------------------

    @property
    def item(self) -> Item:
        return self.items[self.queue[self.pos]]

    def counts(self) -> dict[str, int]:
        decided = [self.items[i].decision for i in self.queue]
        return {"reviewed": sum(d is not None for d in decided),
                "approved": decided.count("approved"), "rejected": decided.count("rejected"),
                "skipped_forever": decided.count("skipped_forever"),
                "left": sum(d is None for d in decided)}

    def progress(self) -> str:
        c = self.counts()
        return (f"reviewed {c['reviewed']} / approved {c['approved']} / rejected "
                f"{c['rejected']} / skipped forever {c['skipped_forever']} / left {c['left']}")

    @property
    def finished(self) -> bool:
        return all(self.items[i].decision is not None for i in self.queue)

    def approved(self) -> dict[int, str]:
        return {i: it.final for i, it in self.items.items() if it.decision == "approved"}

    # -- deciding -------------------------------------------------------------------------

    def approve(self) -> str:
        item = self.item
        if not item.candidate.reply.strip():
            return "Nothing to approve: this candidate has no text (edit or regenerate)."
        return self._decide(item, "approved", item.candidate.reply)

    def reject(self) -> str:
        return self._decide(self.item, "rejected", "")

    def skip_forever(self) -> str:
        return self._decide(self.item, "skipped_forever", "")

    def skip(self) -> str:
        self._record({"op": "skip", "i": self.item.row})
        self._advance()
        return "Skipped for now."

    def undo(self) -> str:
        if not self._undo:
            return "Nothing to undo."
        row, decision, _final = self._undo[-1]
        item = self.items[row]
        undone = item.decision
        self._record({"op": "undo", "i": row})
        if undone in TO_HISTORY:
            self.history.record(self.out.key(row), "undone", undoes=undone)
        if decision in TO_HISTORY:
            self.history.record(self.out.key(row), str(decision), reply=item.final)
        self.pos = self.queue.index(row)
        return f"Undid {str(undone).replace('_', ' ')} of row {row + 1}."

    def add_candidate(self, row: int, reply: str, status: str, reasons: list[str],
                      origin: str) -> bool:
        """Keep a new candidate for a row and make it current; False when the row has it
        already (then that one becomes current)."""
        item = self.items[row]
        same = next((k for k, c in enumerate(item.candidates) if c.reply == reply), None)
        if same is not None:
            if same != item.current:
                self._record({"op": "pick", "i": item.row, "c": same})
            return False
        self._record({"op": "candidate", "i": item.row, "reply": reply, "status": status,
                      "reasons": reasons, "origin": origin})
        return True

    def next_candidate(self) -> str:
        item = self.item
        if len(item.candidates) == 1:
            return "Only one candidate: regenerate (g) for another."
        self._record({"op": "pick", "i": item.row,
                      "c": (item.current + 1) % len(item.candidates)})
        return f"Candidate {item.current + 1} of {len(item.candidates)}."

    def approve_ok(self) -> int:
        """Approve every undecided `ok` row that has a reply; how many were approved."""
        n = 0
        for pos, i in enumerate(self.queue):
            item = self.items[i]
            if item.status == "ok" and item.decision is None and item.candidate.reply.strip():
                self.pos = pos
                self._decide(item, "approved", item.candidate.reply, advance=False)
                n += 1
        return n

    # -- moving ---------------------------------------------------------------------------

    def move(self, step: int) -> None:
        self.pos = (self.pos + step) % len(self.queue)

    def jump_to_review(self) -> str:
        """The next undecided `needs_review` row after this one."""
        for k in range(1, len(self.queue) + 1):
            pos = (self.pos + k) % len(self.queue)
            item = self.items[self.queue[pos]]
            if item.status == "needs_review" and item.decision is None:
                self.pos = pos
                return f"Row {item.row + 1} needs review."
        return "No undecided needs_review row left."

    # -- writing --------------------------------------------------------------------------

    def write(self) -> None:
        """OUT with each row's decision and final reply (the current candidate if undecided)."""
        replies = {i: (it.final if it.decision == "approved" else it.candidate.reply)
                   for i, it in self.items.items() if i in self.queue}
        decisions = {i: it.decision or "" for i, it in self.items.items()}
        write_out(self.out, replies, decisions)

    def close(self) -> None:
        self.journal.close()

    # -- inside ---------------------------------------------------------------------------

    def _decide(self, item: Item, decision: str, reply: str, advance: bool = True) -> str:
        before = item.decision
        self._record({"op": "decide", "i": item.row, "decision": decision, "reply": reply})
        key = self.out.key(item.row)
        if before in TO_HISTORY:  # a second decision replaces the first, in history too
            self.history.record(key, "undone", undoes=before)
        if decision in TO_HISTORY:
            self.history.record(key, decision, reply=reply, out=self.out.path.name)
        if advance:
            self._advance()
        return f"Row {item.row + 1}: {decision.replace('_', ' ')}."

    def _record(self, rec: dict[str, Any]) -> None:
        self._apply(self.journal.append(rec))

    def _apply(self, rec: dict[str, Any]) -> None:
        item = self.items.get(int(rec.get("i", -1)))
        if item is None:
            return
        op = rec["op"]
        if op == "candidate":
            item.candidates.append(Candidate(str(rec["reply"]), str(rec["status"]),
                                             list(rec.get("reasons", [])), str(rec["origin"])))
            item.current = len(item.candidates) - 1
        elif op == "pick":
            item.current = int(rec["c"]) % len(item.candidates)
        elif op == "decide":
            self._undo.append((item.row, item.decision, item.final))
            item.decision, item.final, item.skipped = rec["decision"], str(rec["reply"]), False
        elif op == "undo" and self._undo:
            _row, item.decision, item.final = self._undo.pop()
        elif op == "skip":
            item.skipped = True

    def _advance(self) -> None:
        """To the next undecided row after this one (wrapping), if there is one."""
        for k in range(1, len(self.queue) + 1):
            pos = (self.pos + k) % len(self.queue)
            if self.items[self.queue[pos]].decision is None:
                self.pos = pos
                return

    def _resume_at(self) -> int:
        undecided = [p for p, i in enumerate(self.queue) if self.items[i].decision is None]
        fresh = [p for p in undecided if not self.items[self.queue[p]].skipped]
        return (fresh or undecided or [0])[0]

    def _reconcile_history(self) -> None:
        """A crash between the journal's record and the history's: write the history's."""
        for i in self.queue:
            item = self.items[i]
            if item.decision in TO_HISTORY and not self.history.answered(self.out.key(i)):
                self.history.record(self.out.key(i), str(item.decision), reply=item.final,
                                    out=self.out.path.name)


def open_session(out_path: Path, data_dir: Path, column: str | None = None,
                 restart: bool = False) -> Session:
    """Read OUT, resume its review journal (or start one) and the shared history."""
    out = load_out(out_path, column)
    if not any(out.cell(i, "status") in ORDER for i in range(len(out))):
        from shawgpt.errors import InputError

        raise InputError(f"{out_path} has no reply to review (every row is skipped)")
    ids = out.row_ids()
    header = {"out": out_path.name, "rows": len(ids), "ids": ids,
              "replies": [out.cell(i, "reply") for i in range(len(out))]}
    path = journal_path(out_path)
    if restart:
        set_aside(path)

    def accepts(old: dict[str, Any], records: list[dict[str, Any]]) -> str | None:
        why = hashes_differ(old.get("ids", []), ids)
        if why:
            return why
        known: dict[int, set[str]] = {i: {r} for i, r in enumerate(old.get("replies", []))}
        for rec in records:
            if "reply" in rec:
                known.setdefault(int(rec.get("i", -1)), set()).add(str(rec["reply"]))
        for i in range(len(out)):
            if out.cell(i, "reply") not in known.get(i, set()):
                return f"row {i + 1}'s reply is not one batch or this review wrote"
        return None

    journal = ReviewJournal.open(path, header, out_path, accepts)
    return Session(out, journal, History.of(data_dir))
