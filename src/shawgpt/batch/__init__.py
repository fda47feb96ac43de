"""Batch: reply to a whole file of comments, resumably, and read and write those files.

Imports reply and everything below it; never voice, review, youtube or the command line.
"""
