"""Reply: the product's main path, one comment to one checked, signed reply.

pipeline.py screens the comment, retrieves its chunks and renders the prompt (prepare), then
generates and settles; drafts.py picks the best of n drafts or composes the fallback;
prompts.py renders the templates in prompts/; wiring.py builds the embedder, store and
generator from the settings, the one place that does. Imports models, index, retrieval,
safety, config, errors and the creator's past replies (voice.pairs, voice.examples); never
batch, review, youtube, voice.finetune or the command line.
"""
