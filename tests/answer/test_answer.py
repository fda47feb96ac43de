"""The answer room: the selector finds the sentence that answers, the extract quotes it
under the creator's lead-in, the deferral says "not covered" in the comment's language, and
the repairs change wording, never claims. Real embedder (all-MiniLM-L6-v2), small texts."""

from __future__ import annotations

import pytest

from shawgpt.answer.defer import defer
from shawgpt.answer.extract import choose, extract, passage, quotable, title
from shawgpt.answer.repair import repair, repair_lines
from shawgpt.answer.select import idf_of, pool, select, term_share
from shawgpt.index.store import Source
from shawgpt.reply.drafts import voice
from shawgpt.reply.prompts import bundled_prompts_dir
from shawgpt.safety.content import Embedded

LINES = voice(bundled_prompts_dir())
FAT = Source("4 Ways to Quantify Fat Tails with Python _ by Shaw Talebi _ Towards Data "
             "Science.pdf", "3", 0.61,
             "In the last post, I introduced fat tails. Here I give four heuristics. "
             "Kurtosis measures how heavy the tails of a distribution are compared to a "
             "normal one. This makes it a quick first check. "
             "The proposed metric (κ) takes values between 0 and 1, where 1 implies the "
             "data are maximally fat-tailed.")
WAVE = Source("The Wavelet Transform _ by Shaw Talebi.pdf", "2", 0.52,
              "A wavelet is a wave-like oscillation that is localized in time. "
              "The Fourier transform uses sine waves that go on forever.")


@pytest.fixture(scope="module")
def embed(embedder) -> Embedded:
    return Embedded(embedder.embed_texts)


def test_the_pool_holds_each_sentence_once_with_its_neighbours() -> None:
    found = pool([FAT, FAT, WAVE])
    texts = [c.text for c in found]
    assert len(texts) == len(set(texts)) == 7
    kurt = next(c for c in found if c.text.startswith("Kurtosis"))
    assert kurt.before == "Here I give four heuristics."
    assert kurt.after == "This makes it a quick first check."
    assert (kurt.chunk, kurt.position) == (0, 2)


def test_the_selector_puts_the_answering_sentence_first(embed: Embedded) -> None:
    best = select("What values can Taleb's kappa κ take?", [WAVE, FAT], embed)[0]
    assert best.text.startswith("The proposed metric (κ)")
    best = select("How is a wavelet different from a sine wave?", [FAT, WAVE], embed)[0]
    assert best.source is WAVE


def test_rare_terms_weigh_more_than_common_ones() -> None:
    idf = idf_of([frozenset({"data", "kurtosis"}), frozenset({"data"}), frozenset({"data"})])
    assert idf["kurtosis"] > idf["data"] > 0
    asked = {t: idf[t] for t in ("data", "kurtosis")}
    assert term_share(asked, "kurtosis of it") > term_share(asked, "the data") > 0


def test_the_extract_quotes_the_article_under_a_lead_in(embed: Embedded) -> None:
    q = "What does kurtosis measure?"
    made = extract(q, select(q, [FAT], embed), LINES)
    assert made is not None
    assert '"4 Ways to Quantify Fat Tails with Python"' in made.text
    assert "Kurtosis measures how heavy the tails of a distribution are" in made.text
    assert made.text.split(" As I put it")[0] in LINES["question-open"]
    # the sentence after it leans back on it ("This makes it …") and is not quoted alone
    assert made.quoted[0].text.startswith("Kurtosis")
    assert made.confidence == made.quoted[0].score


def test_a_sentence_that_leans_back_comes_with_its_neighbour(embed: Embedded) -> None:
    lean = next(c for c in pool([FAT]) if c.text.startswith("This makes"))
    assert not quotable(lean.text)
    assert passage(lean) is None  # too short to stand as a quote at all
    src = Source("x.pdf", "1", 0.5, "Kurtosis measures how heavy the tails of a "
                 "distribution are compared to a normal one. This is why kurtosis is "
                 "a quick first check for fat tails in any dataset.")
    lean = pool([src])[1]
    assert passage(lean) == [pool([src])[0].text, lean.text]


def test_nothing_quotable_gives_no_extract(embed: Embedded) -> None:
    code = Source("c.pdf", "1", 0.5, "ica = FastICA(n_components=21) | comp | var |")
    assert choose(select("How do I run ICA?", [code], embed)) == ([], [])
    assert extract("How do I run ICA?", select("How do I run ICA?", [code], embed),
                   LINES) is None


def test_a_chinese_question_gets_a_chinese_lead_in(embed: Embedded) -> None:
    src = Source("rag-zh.txt", "", 0.8,
                 "检索增强生成先从知识库里找出相关的段落。然后把它们放进提示里交给模型。")
    q = "RAG 第一步做什么？"
    made = extract(q, select(q, [src], embed), LINES, language="zh")
    assert made is not None and "我在《rag-zh》里写过：“" in made.text
    assert made.text.startswith(tuple(LINES["question-open zh"]))


def test_the_deferral_is_first_person_names_the_article_and_promises_nothing() -> None:
    said = defer("How does powerlaw pick xmin?", [FAT], LINES)
    assert said.startswith(tuple(LINES["defer"]))
    assert said.endswith('The closest I\'ve written about is "4 Ways to Quantify Fat Tails '
                         'with Python".')
    assert "video" not in said and "will" not in said
    assert defer("How does powerlaw pick xmin?", [], LINES) in LINES["defer"]
    zh = defer("这个怎么做？", [FAT], LINES, language="zh")
    assert zh.startswith(LINES["defer zh"]) and "《4 Ways to Quantify Fat Tails with Python》" in zh
    assert defer("Comment ça marche ?", [], LINES, language="fr") in LINES["defer"]  # no fr lines


@pytest.mark.parametrize(("said", "repaired"), [
    ("The article emphasizes that kurtosis is driven by the tails.",
     "Kurtosis is driven by the tails."),
    ("According to the article, ICA needs as many microphones as speakers.",
     "ICA needs as many microphones as speakers."),
    ("Shaw asks five questions before a project.", "I ask five questions before a project."),
    ("Shaw suggests using the log-log plot.", "I suggest using the log-log plot."),
    ("In Shaw's example, the signal has 64 channels.",
     "In my example, the signal has 64 channels."),
    ("Shawhin is a data scientist.", "I am a data scientist."),
    # no claim to keep once the frame goes: left for the checks to hold
    ("The article mentions three heuristics.", "The article mentions three heuristics."),
    # the signature's name is not the creator's
    ("No, ShawGPT did not run it.", "No, ShawGPT did not run it."),
    ("Kurtosis is driven by the tails.", "Kurtosis is driven by the tails."),
])
def test_repairs_change_the_wording_and_keep_the_claim(said: str, repaired: str) -> None:
    assert repair(said) == repaired


def test_repairs_keep_a_signed_reply_signed() -> None:
    assert repair_lines("The post notes that ICA finds sources.\n–ShawGPT") == \
        "ICA finds sources.\n–ShawGPT"


def test_a_question_about_the_creator_himself_gets_no_guess_and_no_article() -> None:
    for asked in ("How can we financially support you? Do you have Patreon?",
                  "Have you tried LangChain with open-source LLMs?"):
        said = defer(asked, [FAT], LINES)
        assert said in LINES["defer-you"], asked
        assert "guess" not in said and "closest" not in said
    # a request for new content gets a thanks for the idea and no promise
    for asked in ("Can you do a video on finetuning a multimodal LLM with images?",
                  "Please make a tutorial on LoRA"):
        assert defer(asked, [FAT], LINES) in LINES["defer-request"], asked
    assert not any("will" in line or "soon" in line for line in LINES["defer-request"])
    assert defer("博主你有没有开设课程？", [FAT], LINES, language="zh") in LINES["defer-you zh"]
    # a question about the articles' topic still names the nearest article
    assert "closest I've written about" in defer("How does powerlaw pick xmin?", [FAT], LINES)


def test_a_title_cut_short_by_the_site_loses_its_broken_subtitle() -> None:
    cut = Source("Causal Discovery. Learning causation from data using… _ by Shaw Talebi _ "
                 "Towards Data Science.pdf", "1", 0.6, "x")
    assert title(cut) == "Causal Discovery"
    whole = Source("The Wavelet Transform. An Introduction and Example _ by Shaw Talebi.pdf",
                   "1", 0.6, "x")
    assert title(whole) == "The Wavelet Transform. An Introduction and Example"
