"""Safety: checks on the way in (the comment) and on the way out (the reply and its status).

Imports index (Source), models (the Prompt contract), text, config and errors (never reply, batch
or anything above).
"""
