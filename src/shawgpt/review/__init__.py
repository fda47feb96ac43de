"""Review: a person approves, edits, regenerates or rejects batch's replies before posting.

Imports batch, the pipeline and everything below them; never cli (the shell calls review).
"""
