"""Settings: one frozen dataclass (settings.py), one precedence (load.py), checks (checks.py).

Imports only `errors`; never a stage above it. Inside, settings.py imports nothing, checks.py
imports settings.py, load.py both, so there is no circle. files.py (whole files written all
or nothing, for every stage: config is the one they all may import) imports nothing.
"""

from shawgpt.config.load import CONFIG_FILE, ENV_PREFIX, SETTING_NAMES, load_settings
from shawgpt.config.settings import PDF_READERS, PROFILES, Settings, pdf_reader_error

__all__ = ["CONFIG_FILE", "ENV_PREFIX", "PDF_READERS", "PROFILES", "SETTING_NAMES",
           "Settings", "load_settings", "pdf_reader_error"]
