"""YouTube: fetch new comments from a channel and post approved replies, on the Data API.

May import batch/ (CSV files, the history) and everything below it; never the command line, voice
or review.
"""
