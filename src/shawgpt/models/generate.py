"""Generate: the registry of backends behind the one batch-first contract (models/base.py).

    generator.generate(prompts) -> one raw reply per prompt, in order

- `local` (the embedded default): OpenVINO GenAI on the CPU (openvino_llm.py) for a GGUF
  file or an OpenVINO model folder, with or without a LoRA adapter; any other model (or an
  adapter the engine cannot take exactly) goes to transformers, with one line on
  stderr saying so.
- `transformers`: transformers (+ peft, + gptqmodel on CUDA) for any causal LM; the recipe.
- `openai`: any OpenAI-compatible chat server (openai_llm.py).

BACKENDS maps the setting `backend` to a factory. Post-processing (signature, checks) is
safety/'s job, not a backend's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from shawgpt.config import Settings
from shawgpt.errors import ConfigError
from shawgpt.models.base import Generator


def transformers_backend(s: Settings) -> Generator:
    from shawgpt.models.transformers_llm import TransformersGenerator

    return TransformersGenerator.from_settings(s)


def local_backend(s: Settings) -> Generator:
    """OpenVINO GenAI when it can take the model, else transformers (and say so)."""
    import importlib.util

    from shawgpt.models.engine.build import engine_source
    from shawgpt.models.engine.weights import NotForEngine
    from shawgpt.models.openvino_llm import OpenVINOGenerator

    try:
        source = engine_source(s.llm_model, s.cache_path)
        if importlib.util.find_spec("openvino_genai") is None:
            raise NotForEngine("openvino-genai is not installed")
        return OpenVINOGenerator.from_settings(s, source)
    except NotForEngine as why:
        print(f"note: {why}; generating with transformers", file=sys.stderr)
        return transformers_backend(s)


def openai_backend(s: Settings) -> Generator:
    from shawgpt.models.openai_llm import OpenAIGenerator

    return OpenAIGenerator.from_settings(s)


BACKENDS: dict[str, Callable[[Settings], Generator]] = {
    "local": local_backend,
    "transformers": transformers_backend,
    "openai": openai_backend,
}


def make_generator(s: Settings) -> Generator:
    try:
        factory = BACKENDS[s.backend]
    except KeyError:
        raise ConfigError(
            f"unknown backend {s.backend!r} (choose from: {', '.join(BACKENDS)})"
        ) from None
    return factory(s)
