"""Reply: the product's main path, one comment to one checked, signed reply.

pipeline.py screens the comment, retrieves its chunks and renders the prompt (prepare), then
generates and settles; drafts.py picks the best of n drafts or composes the fallback;
prompts.py renders the templates in prompts/ (examples.py picks the creator's past replies
most like the comment for them); candidates.py offers a question's other replies (the
article's own sentences, an honest deferral: answer/); wiring.py builds the embedder, store
and generator from the settings, the one place that does; log.py records every reply
generated (`shawgpt logs`). Imports models, index, retrieval, safety, answer, tables, text,
config and errors; never voice, batch, review, youtube or the command line.
"""
