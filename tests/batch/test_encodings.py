"""Every encoding an export of comments comes in: read exactly right, or refused in one line.

The corpus is made here (nothing binary is committed): real-looking comments in the
language each encoding is used for (simplified Chinese in GB18030/GBK, traditional in Big5,
Japanese in Shift-JIS, Korean in EUC-KR, French/German/Spanish in cp1252 and latin-1),
written as whole exports (short and long rows, a BOM where one applies, CSV and JSONL) and
as one file per comment, because a lone short row such as "谢谢博主" is where encodings
are hardest to tell apart. Files with one bad byte or one line in another encoding must
read every other row exactly and flag that one. The outcome of each file is one of
right / flagged (all text right, a row more flagged than needed) / refused (an InputError
naming --encoding) / wrong; `wrong` must never happen. bench/bench_encodings.py measures the
candidate orders on this same corpus. Reading goes through read_table, as `batch` reads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shawgpt.errors import InputError
from shawgpt.tables.csvio import Table, read_table

COMMENTS: dict[str, list[str]] = {
    "zh-Hans": ["谢谢博主", "讲得太好了！", "支持一下", "请问小波变换和傅里叶变换有什么区别？",
                "峰度是怎么反映厚尾分布的？能再举个例子吗？", "字幕有错别字，第三分钟那里。",
                "这个视频对我帮助很大，我正在写毕业论文，用的就是你讲的方法。", "好的",
                "大模型微调需要多少显存？用LoRA的话8GB够吗？", "已三连，期待下一期！"],
    "zh-Hant": ["謝謝分享", "講解得非常清楚，感謝！", "期待下一集", "請問小波轉換要怎麼選母小波？",
                "峰態係數高代表什麼意思？", "這部影片幫了我很多，我正在準備碩士論文。",
                "可以出一集關於大型語言模型的教學嗎？", "太實用了，已訂閱",
                "第五分鐘的公式好像少了一個平方？"],
    "ja": ["ありがとうございます", "わかりやすい！", "字幕が欲しいです",
           "尖度が高いと裾が重いということですか？",
           "ウェーブレット変換とフーリエ変換の違いがよく分かりました。",
           "次の動画も楽しみにしています！",
           "卒業研究で使わせていただきます。とても参考になりました。", "最高です",
           "質問です。データが少ない場合はどうすればいいですか？"],
    "ko": ["감사합니다", "최고예요!", "자막 부탁드려요", "좋은 강의 감사합니다", "ㅋㅋㅋ 설명 최고",
           "첨도가 높으면 꼬리가 두껍다는 뜻인가요?",
           "웨이블릿 변환과 푸리에 변환의 차이를 쉽게 설명해 주셔서 감사합니다.",
           "대학원 논문 쓰는 데 큰 도움이 되었습니다. 다음 영상도 기대할게요.", "구독했어요"],
    "western": ["Merci beaucoup !", "Génial", "Très bien expliqué, merci", "Schön erklärt!",
                "Danke für das Video, sehr hilfreich!", "¡Excelente explicación!",
                "Quelle est la différence entre la transformée de Fourier et les ondelettes ?",
                "¿Podrías hacer un vídeo sobre la curtosis?",
                "Können Sie das Beispiel näher erklären?",
                "J'ai regardé deux fois, c'est très clair. À quand la suite ?", "Ça marche"],
    "cp1252": ["Ça coûte 20 € par mois ?", "Könnten Sie „echte“ Daten zeigen?",
               "C’est l’œuvre d’une vie… bravo", "Muy útil – gracias"],
}
ENGLISH = ["Thanks!", "great video", "How does kurtosis reveal fat tails?"]
# (name, codec the file is written in, languages of its comments)
ENCODINGS = [("utf-8", "utf-8", ["zh-Hans", "ja", "ko", "western"]),
             ("utf-8-bom", "utf-8-sig", ["zh-Hant", "western", "cp1252"]),
             ("utf-16", "utf-16", ["zh-Hans", "ko"]), ("utf-16-le", "utf-16-le", ["ja"]),
             ("utf-16-be-bom", "utf-16-be+bom", ["zh-Hant"]),
             ("gbk", "gbk", ["zh-Hans"]), ("gb18030", "gb18030", ["zh-Hans"]),
             ("big5", "big5", ["zh-Hant"]), ("cp950", "cp950", ["zh-Hant"]),
             ("shift_jis", "shift_jis", ["ja"]), ("cp932", "cp932", ["ja"]),
             ("euc-kr", "euc-kr", ["ko"]), ("cp949", "cp949", ["ko"]),
             ("cp1252", "cp1252", ["western", "cp1252"]), ("latin-1", "latin-1", ["western"])]


@dataclass
class Case:
    name: str
    data: bytes
    comments: list[str]  # the comment column as it must read
    odd: set[int] = field(default_factory=set)  # rows that must be flagged, may read wrong
    suffix: str = ".csv"


def encode(text: str, codec: str) -> bytes:
    """`text` in `codec`; "utf-16-be+bom" is big-endian UTF-16 with its BOM."""
    if codec == "utf-16-be+bom":
        return "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")
    return text.encode(codec)


def csv_bytes(comments: list[str], codec: str, delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(["Author", "Comment", "Likes"])
    writer.writerows([f"viewer{i}", c, str(i * 3)] for i, c in enumerate(comments))
    return encode(buf.getvalue(), codec)


def corpus() -> list[Case]:
    """Every file: whole exports, one file per comment, bad bytes, mixed lines."""
    cases: list[Case] = []
    for name, codec, langs in ENCODINGS:
        texts = [c for lang in langs for c in COMMENTS[lang]]
        mixed = [t for pair in zip(texts, ENGLISH * len(texts), strict=False) for t in pair]
        cases.append(Case(f"{name}/export", csv_bytes(mixed, codec), mixed))
        cases.append(Case(f"{name}/short", csv_bytes(texts[:3], codec), texts[:3]))
        for i, text in enumerate(texts):
            one = encode("Comment\r\n" + (f'"{text}"' if "," in text else text) + "\r\n", codec)
            cases.append(Case(f"{name}/one-{i}", one, [text]))
        if not codec.startswith("utf-16"):  # a JSONL file is UTF-8 or a legacy one
            jsonl = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
            cases.append(Case(f"{name}/jsonl", jsonl.encode(codec), texts, suffix=".jsonl"))
    western = COMMENTS["western"] + COMMENTS["cp1252"]
    cases.append(Case("cp1252/semicolon", csv_bytes(western, "cp1252", ";"), western))
    # one bad byte: a stray cp1252 "é" in UTF-8; a character cut in half in GBK and Shift-JIS
    for name, codec, lang in (("utf-8", "utf-8", "western"), ("gbk", "gbk", "zh-Hans"),
                              ("shift_jis", "shift_jis", "ja")):
        texts = COMMENTS[lang]
        good = csv_bytes(texts, codec).splitlines(keepends=True)
        bad = b"viewerX," + texts[3].encode(codec)[:-1] + b",0\r\n" if codec != "utf-8" \
            else b'viewerX,"d\xe9j\xe0 vu",0\r\n'
        data = b"".join(good[:4]) + bad + b"".join(good[4:])
        cases.append(Case(f"{name}/bad-byte", data, [*texts[:3], "", *texts[3:]], {3}))
    # a UTF-8 export with one row pasted in GBK; a cp1252 export with one UTF-8 row
    zh = COMMENTS["zh-Hans"]
    good = csv_bytes(zh, "utf-8").splitlines(keepends=True)
    pasted = "谢谢博主，讲得太好了"
    data = b"".join(good[:3]) + f"viewerX,{pasted},0\r\n".encode("gbk") + b"".join(good[3:])
    cases.append(Case("utf-8/gbk-line", data, [*zh[:2], pasted, *zh[2:]], {2}))
    fr = COMMENTS["western"]
    good = csv_bytes(fr, "cp1252").splitlines(keepends=True)
    data = b"".join(good[:3]) + "viewerX,déjà vu,0\r\n".encode() + b"".join(good[3:])
    cases.append(Case("cp1252/utf-8-line", data, [*fr[:2], "déjà vu", *fr[2:]], {2}))
    return cases


def outcome(case: Case, folder: Path,
            read: Callable[[Path], Table] = read_table) -> tuple[str, str]:
    """(right | flagged | refused | wrong, detail) for one file read with `read`."""
    path = folder / (case.name.replace("/", "_") + case.suffix)
    path.write_bytes(case.data)
    try:
        table = read(path)
    except InputError as exc:
        one_line = "\n" not in str(exc) and "--encoding" in str(exc)
        return ("refused" if one_line else "wrong"), str(exc)
    column = "text" if case.suffix == ".jsonl" else "Comment"
    if column not in table.columns:
        return "wrong", f"columns {table.columns} ({table.encoding})"
    got = [row.get(column) for row in table.rows]
    if len(got) != len(case.comments):
        return "wrong", f"{len(got)} rows for {len(case.comments)}"
    for i, (text, want) in enumerate(zip(got, case.comments, strict=True)):
        if text != want and not (i in case.odd and i in table.flags):
            return "wrong", f"row {i + 1}: {text!r} for {want!r} ({table.encoding})"
    if not case.odd <= set(table.flags):
        return "wrong", f"rows {sorted(case.odd)} not flagged"
    return ("right" if set(table.flags) == case.odd else "flagged"), table.encoding


CORPUS = corpus()


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_every_file_reads_right_or_is_refused_in_one_line(case: Case, tmp_path: Path) -> None:
    result, detail = outcome(case, tmp_path)
    assert result in ("right", "refused"), detail


def test_the_whole_corpus_reads_right_and_refuses_few(tmp_path: Path) -> None:
    results = [outcome(c, tmp_path)[0] for c in CORPUS]
    assert results.count("wrong") == 0
    assert results.count("refused") <= len(results) // 20  # at most 5% refused
    assert all(outcome(c, tmp_path)[0] == "right" for c in CORPUS if "export" in c.name)


def test_a_gbk_export_is_read_as_chinese_with_its_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(csv_bytes(COMMENTS["zh-Hans"], "gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030" and not table.flags and not table.notes
    assert table.rows[0]["Comment"] == "谢谢博主"


def test_an_explicit_encoding_reads_every_legacy_file_strictly(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    for codec, lang in (("gbk", "zh-Hans"), ("big5", "zh-Hant"), ("shift_jis", "ja"),
                        ("euc-kr", "ko"), ("latin-1", "western")):
        path.write_bytes(csv_bytes(COMMENTS[lang], codec))
        assert [r["Comment"] for r in read_table(path, codec).rows] == COMMENTS[lang]
    path.write_bytes(csv_bytes(COMMENTS["ko"], "euc-kr"))
    with pytest.raises(InputError, match=r"in.csv is not valid shift_jis \(byte \d+\); pass "
                                         r"--encoding"):
        read_table(path, "shift_jis")


def test_an_undecidable_file_names_both_readings_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Comment\r\n好看\r\n".encode("gbk"))  # also two frequent Hangul: 봤였
    with pytest.raises(InputError) as err:
        read_table(path)
    message = str(err.value)
    assert message.startswith(f"cannot tell the encoding of {path} (")
    assert message.endswith("?); pass --encoding with the file's encoding")
    assert "GB18030" in message and "\n" not in message


def test_unreadable_text_in_no_candidate_is_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes("Comment\r\nСпасибо за видео, очень полезно\r\n".encode("cp1251"))
    with pytest.raises(InputError, match="cannot tell the encoding of .*--encoding"):
        read_table(path)
    assert read_table(path, "cp1251").rows[0]["Comment"].startswith("Спасибо")


def test_a_cut_character_in_gbk_flags_only_its_row(tmp_path: Path) -> None:
    case = next(c for c in CORPUS if c.name == "gbk/bad-byte")
    path = tmp_path / "in.csv"
    path.write_bytes(case.data)
    table = read_table(path)
    assert table.encoding == "gb18030" and list(table.flags) == [3]
    assert table.rows[3]["Comment"] == case.comments[4][:-1] + "\ufffd"
    assert table.notes == ["row 4 is not valid gb18030 like the rest of the file; read as "
                           "gb18030 with U+FFFD for the bad bytes and flagged needs_review"]
