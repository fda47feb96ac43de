"""Tables: read and write the comment tables every stage above passes around.

csvio.py reads any CSV export or JSONL file into rows of text and writes them back (through
a temporary file, cells sanitized); encoding.py decodes the bytes line by line, so a stray
byte flags one row; columns.py finds the comment column by name; pairs.py reads a file of
past comments and the creator's replies (voice examples, `finetune`). Imports only config,
errors and safety.sanitize; never reply, batch, voice, review, youtube or anything else above.
"""
