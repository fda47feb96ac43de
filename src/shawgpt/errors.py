"""The one user-facing error type.

Everything the user can cause or fix (bad input, missing index, missing model, wrong
settings) is raised as a ShawGPTError subclass with a one-line message. The CLI turns it
into `Error: <message>` on stderr and exit code 1. Anything else is a bug and may show a
traceback.
"""


class ShawGPTError(Exception):
    """A problem the user can fix; the message is shown as is, on one line."""


class ConfigError(ShawGPTError):
    """Bad settings: unknown key, wrong type, unknown profile."""


class InputError(ShawGPTError):
    """Bad input data: unreadable file, missing column, empty comment."""


class IndexMissingError(ShawGPTError):
    """No index and nothing to build it from."""


class IndexDamagedError(ShawGPTError):
    """The index on disk cannot be read (CURRENT, a manifest or a snapshot is broken);
    `shawgpt index --full` rebuilds it."""


class IndexMismatchError(ShawGPTError):
    """The index was built with other settings (embedding model, chunking) than asked for."""


class ModelError(ShawGPTError):
    """A model or an optional dependency cannot be loaded."""


class LockError(ShawGPTError):
    """Another process holds the index lock."""


class ServeError(ShawGPTError):
    """`shawgpt serve` cannot start: another server runs for this data folder, or the
    socket cannot be made."""
