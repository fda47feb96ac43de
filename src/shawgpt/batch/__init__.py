"""Batch: reply to a whole file of comments, resumably, and read and write those files.

Imports the pipeline and everything below it (never cli); nothing below imports batch.
"""
