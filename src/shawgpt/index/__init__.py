"""Index: read and clean articles, chunk them, and keep the live vector index in step with them.

Imports only config, errors and models' embedders (never a generator, retrieval, safety, batch).
"""
