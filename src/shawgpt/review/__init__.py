"""Review: a person approves, edits, regenerates or rejects batch's replies before posting.

Imports batch, reply and everything below them; never youtube, voice or the command line
(the command line calls review).
"""
