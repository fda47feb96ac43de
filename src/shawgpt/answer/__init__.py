"""Answer: an answer built from the article's own sentences, and an honest "not covered".

select.py scores every sentence of the retrieved chunks against the question (the selector);
extract.py quotes the best of them under a short lead-in (true by construction: the creator
wrote them), defer.py says in the first person, in the comment's language, that the articles
do not answer the question and what they do cover, and repair.py rewrites wording a rule can
fix without inventing content ("The article emphasizes that X" -> "X"). The evidence behind a
generated answer stays in safety/evidence.py, since every check of safety/ reads it.

Imports index (Source), retrieval (its tokenizer), safety (text primitives), models.base,
text, config and errors; never reply, batch, review, voice, youtube or the command line.
"""
