"""Retrieval: find the chunks a comment needs, or none (hybrid search, the gate, evaluation).

Imports index, models' embedders, text (the sentence splitter), config and errors (never a
generator, safety, reply, batch).
"""
