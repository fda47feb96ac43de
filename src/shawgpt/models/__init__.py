"""Models: embedders and generators behind their narrow batch-first contracts, and their loading.

One file per backend, the registry (generate.py) over them; engine/ is the local engine
(OpenVINO GenAI's model of a GGUF, built once into the cache), under the backends that use it.

Imports only config and errors (never index, retrieval, safety, reply or anything above).
"""
