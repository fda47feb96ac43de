"""Settings: one precedence over every layer.

flags > `SHAWGPT_*` environment > `shawgpt.toml` (in the working folder) > profile > defaults.
Unknown keys anywhere are errors, so a typo never silently falls back to a default. Each
loaded value remembers where it came from, for `shawgpt info`. The dataclass and the
profiles are in settings.py, the checks every load runs in checks.py.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from shawgpt.config.checks import validate
from shawgpt.config.settings import PROFILES, Settings
from shawgpt.errors import ConfigError

ENV_PREFIX = "SHAWGPT_"
CONFIG_FILE = "shawgpt.toml"

SETTING_NAMES = tuple(f.name for f in fields(Settings) if f.name != "sources")
_DEFAULTS = Settings()


def _coerce(name: str, value: Any, origin: str) -> Any:
    """Turn a raw value (a string from env, anything from TOML) into the field's type."""
    kind = type(getattr(_DEFAULTS, name))
    try:
        if kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError
                return value.lower() in ("1", "true", "yes")
            return bool(value)
        if kind is int and isinstance(value, float | bool):
            raise ValueError
        if kind is str and not isinstance(value, str):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {name} must be {kind.__name__}, got {value!r}"
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's settings; none when it is absent. A folder, a broken or looping link, or an
    unreadable file of that name is an error, never silently ignored; a BOM is allowed."""
    if not path.exists() and not path.is_symlink():
        return {}
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a settings file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML (not UTF-8 text)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(SETTING_NAMES)})"
        )
    return {k: _coerce(k, v, str(path)) for k, v in data.items()}


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in SETTING_NAMES:
            raise ConfigError(f"environment: unknown setting {key} (known: {_env_names()})")
        out[name] = _coerce(name, raw, key)
    return out


def _env_names() -> str:
    return ", ".join(ENV_PREFIX + n.upper() for n in SETTING_NAMES)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
) -> Settings:
    """Merge every layer into one Settings, remembering where each value came from.

    `flags` holds only options the user actually gave (None means not given).
    """
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(toml_path or CONFIG_FILE), _read_toml(toml_path or Path(CONFIG_FILE))),
        ("env", _read_env(os.environ if env is None else env)),
        ("flag", {k: v for k, v in (flags or {}).items() if v is not None}),
    ]
    for origin, layer in layers:
        unknown = sorted(set(layer) - set(SETTING_NAMES))
        if unknown:
            raise ConfigError(f"{origin}: unknown setting {unknown[0]!r}")

    profile = _DEFAULTS.profile
    for _, layer in layers:
        profile = layer.get("profile", profile)
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r} (choose from: {', '.join(PROFILES)})")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {name: "default" for name in SETTING_NAMES}
    for name, value in PROFILES[profile].items():
        values[name] = value
        sources[name] = f"profile {profile}"
    for origin, layer in layers:
        for name, value in layer.items():
            values[name] = value
            sources[name] = origin
    settings = replace(_DEFAULTS, **values, sources=sources)
    validate(settings)
    return settings
