"""shawgpt: reply to comments in a creator's voice, grounded in the creator's articles."""

__version__ = "0.1.0"
