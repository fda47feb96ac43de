"""Reading a table row by row: mixed encodings, raw line separators in JSON, extra fields.

No model: these are the reading rules that tests/bad_inputs/ checks end to end, at the
edges the corpus does not reach.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shawgpt.batch.inputs import load_comments
from shawgpt.errors import InputError
from shawgpt.tables.encoding import decode


def test_a_cp1252_file_with_one_utf8_line_flags_that_line(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Comment\nnaïve\ncafé\n".encode("cp1252") + "déjà vu\n".encode())
    table = load_comments(path, None)
    assert table.encoding == "cp1252"
    assert [r["Comment"] for r in table.rows] == ["naïve", "café", "déjà vu"]
    assert list(table.flags) == [2]
    assert table.notes == ["row 3 is not valid cp1252 like the rest of the file; read as utf-8 "
                           "and flagged needs_review"]


def test_a_tie_goes_to_utf8_and_a_quoted_newline_flags_its_whole_row(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b'Comment\n"line one\nna\xefve"\n"caf\xc3\xa9"\n')
    table = load_comments(path, None)
    assert table.encoding == "utf-8"
    assert [r["Comment"] for r in table.rows] == ["line one\nnaïve", "café"]
    assert list(table.flags) == [0]


def test_explicit_encoding_is_strict_and_binary_is_refused(tmp_path: Path) -> None:
    data = "Comment\ncafé\n".encode() + b"na\xefve\n"
    with pytest.raises(InputError, match=r"in.csv is not valid utf-8 \(byte 16\)"):
        decode(data, Path("in.csv"), "utf-8")
    assert decode(b"Comment\nBell\x07\x07 twice\n", Path("in.csv")).text.count("\x07") == 2
    with pytest.raises(InputError, match="is not a text file"):
        decode(bytes(range(256)) * 4, Path("in.csv"))


def test_jsonl_keeps_a_raw_line_separator_inside_a_string(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "one\u2028two"}\n{"text": "three"}\n', encoding="utf-8")
    assert [r["text"] for r in load_comments(path, None).rows] == ["one\u2028two", "three"]


def test_extra_fields_never_overwrite_an_input_column(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,Comment,extra_fields\n1,hi,keep\n2,yo,keep2,more\n")
    table = load_comments(path, None)
    assert table.columns == ["id", "Comment", "extra_fields", "extra_fields_2"]
    assert table.rows[1] == {"id": "2", "Comment": "yo", "extra_fields": "keep2",
                             "extra_fields_2": "more"}
    assert table.flags == {1: ["4 fields for 3 columns: the fields past the header are kept "
                               "in 'extra_fields_2'"]}
