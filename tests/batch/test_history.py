"""The answered-comments history: keys, round trip, a torn line, a garbage line."""

from __future__ import annotations

from pathlib import Path

from shawgpt.batch.history import History, comment_key, id_column


def test_key_is_the_id_when_the_input_has_one_else_a_hash_of_the_text() -> None:
    assert id_column(["Comment", "Comment ID", "author"]) == "Comment ID"
    assert id_column(["Comment", "Response"]) is None
    assert comment_key("Great video!", {"comment_id": "Ugx1"}, "comment_id") == "id:Ugx1"
    # an empty id falls back to the text; the text is compared without case or extra spaces
    assert comment_key("Great  video!", {"comment_id": ""}, "comment_id") == \
        comment_key("great video!")
    assert comment_key("Great video!") != comment_key("Great video?")


def test_records_survive_a_new_process_and_a_torn_last_line(tmp_path: Path) -> None:
    h = History.of(tmp_path)
    h.record("id:a", "approved", reply="Thanks! –ShawGPT")
    h.record("id:b", "rejected")
    with (tmp_path / "history.jsonl").open("a", encoding="utf-8") as f:
        f.write('not json\n{"key": "id:c", "act')  # a garbage line, then a torn one
    again = History.of(tmp_path)
    assert again.answered("id:a") and not again.answered("id:b")
    assert not again.answered("id:c")
    assert again.skipped_lines == [3, 4]
    assert again.records["id:a"][0]["reply"] == "Thanks! –ShawGPT"


def test_an_undone_record_takes_back_one_earlier_record(tmp_path: Path) -> None:
    h = History.of(tmp_path)
    h.record("id:a", "approved")
    h.record("id:a", "undone", undoes="approved")
    assert not h.answered("id:a") and h.actions("id:a") == set()
    h.record("id:a", "approved")
    h.record("id:a", "posted")
    h.record("id:a", "undone", undoes="approved")  # taking back an approval never unposts
    assert History.of(tmp_path).actions("id:a") == {"posted"}
