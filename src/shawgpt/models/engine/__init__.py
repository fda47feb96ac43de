"""Engine: OpenVINO GenAI's model of a GGUF file, built once into the cache folder.

The flow is build.py: a GGUF file (a package's, the catalog's or a path) -> the engine's
converted model folder under `<cache>/openvino/`, its zero points made exact and a LoRA
adapter added as branches by weights.py -> the pipeline the backend generates with.

Imports errors and the model files it builds from (catalog.py, adapters.py, local_llm's
GGUF helpers); never a backend or the registry (openvino_llm, transformers_llm, openai_llm,
generate), which sit above it: they may import the engine, it never imports them.
"""
