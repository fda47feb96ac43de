"""Settings: one precedence over every layer.

flags > `SHAWGPT_*` environment > `shawgpt.toml` (in the working folder) > the user's
`config.toml` (platformdirs' user config folder, or `$SHAWGPT_CONFIG_HOME`) > profile >
defaults. The user file holds what a creator sets once for every folder (a server, a voice
file, a signature); the project file what one folder of articles needs. Unknown keys anywhere
are errors naming their file or variable, so a typo never silently falls back to a default.
Each loaded value remembers where it came from, for `shawgpt info`.

The openai backend also reads the variables OpenAI's and Ollama's own clients read, below
every layer: `OPENAI_BASE_URL`, else `OLLAMA_HOST`, gives base_url when no layer sets it
(`OPENAI_API_KEY` stays the key through `api_key_env`). With `-v` the files read and the
values' origins are logged (logger `shawgpt.config`). The dataclass and the profiles are in
settings.py, the checks every load runs in checks.py.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from shawgpt.config.checks import validate
from shawgpt.config.settings import PROFILES, Settings
from shawgpt.errors import ConfigError

ENV_PREFIX = "SHAWGPT_"
CONFIG_FILE = "shawgpt.toml"
# the user file: `config.toml` in platformdirs' user config folder for "shawgpt"
# (~/.config/shawgpt on Linux), or in the folder this variable names (tests, a second setup)
USER_FILE = "config.toml"
CONFIG_HOME_ENV = "SHAWGPT_CONFIG_HOME"
# SHAWGPT_* variables that say where settings live rather than being one
_NOT_SETTINGS = frozenset({CONFIG_HOME_ENV})
# the openai backend's fallbacks for base_url, in this order, and Ollama's default port
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"
OLLAMA_HOST_ENV = "OLLAMA_HOST"
OLLAMA_PORT = 11434

_log = logging.getLogger(__name__)

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


def user_config_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's settings file is (it need not exist).

    `SHAWGPT_CONFIG_HOME` from `env`, else from the process environment, names its folder;
    else platformdirs' user config folder. The process environment is asked even when `env`
    is given (as platformdirs asks it for XDG_CONFIG_HOME), so that a test suite pointing
    the variable elsewhere keeps a developer's own file out of every load, `env={}` included.
    """
    home = (env or {}).get(CONFIG_HOME_ENV) or os.environ.get(CONFIG_HOME_ENV)
    if home:
        return Path(home).expanduser() / USER_FILE
    import platformdirs

    return platformdirs.user_config_path("shawgpt") / USER_FILE


def ollama_base_url(host: str) -> str:
    """OLLAMA_HOST as Ollama's clients read it, as the base URL of its OpenAI-compatible API.

    "localhost:11434" -> "http://localhost:11434/v1"; no scheme means http, no port 11434
    (80 or 443 when the scheme is given), no host 127.0.0.1, and the server's "listen
    everywhere" address (0.0.0.0, ::) the loopback one, which a client can always reach.
    """
    text = host.strip()
    scheme, sep, rest = text.partition("://")
    port = OLLAMA_PORT
    if not sep:
        scheme, rest = "http", text
    elif scheme in ("http", "https"):
        port = 80 if scheme == "http" else 443
    else:
        raise ConfigError(f"{OLLAMA_HOST_ENV}: scheme must be http or https, got {host!r}")
    try:
        split = urllib.parse.urlsplit(f"{scheme}://{rest}")
        name, port = split.hostname or "127.0.0.1", split.port or port
    except ValueError:
        raise ConfigError(f"{OLLAMA_HOST_ENV}: not a host[:port], got {host!r}") from None
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None and address.is_unspecified:
        name = "127.0.0.1"
    elif isinstance(address, ipaddress.IPv6Address):
        name = f"[{name}]"
    path = split.path.strip("/")
    return f"{scheme}://{name}:{port}{'/' + path if path else ''}/v1"


def _openai_base_url(env: Mapping[str, str]) -> tuple[str, str] | None:
    """base_url and its origin from OPENAI_BASE_URL, else OLLAMA_HOST; None when neither."""
    if url := env.get(OPENAI_BASE_URL_ENV, "").strip():
        return url, f"env {OPENAI_BASE_URL_ENV}"
    if host := env.get(OLLAMA_HOST_ENV, "").strip():
        return ollama_base_url(host), f"env {OLLAMA_HOST_ENV}"
    return None


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key in _NOT_SETTINGS:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in SETTING_NAMES:
            raise ConfigError(f"environment: unknown setting {key} (known: {_env_names()})")
        out[name] = _coerce(name, raw, key)
    return out


def _env_names() -> str:
    return ", ".join(ENV_PREFIX + n.upper() for n in SETTING_NAMES)


def _read_file(path: Path, role: str) -> dict[str, Any]:
    layer = _read_toml(path)
    if layer:
        _log.info("%s settings file %s: %s", role, path, ", ".join(sorted(layer)))
    else:
        _log.info("%s settings file %s: %s", role, path,
                  "empty" if path.is_file() else "none there")
    return layer


def _log_origins(profile: str, layers: list[tuple[str, dict[str, Any]]],
                 values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """For -v: what the environment and the flags set, and the profile; for -vv: every value
    that is not a default, with its origin (the YouTube key never shown)."""
    for origin, layer in layers:
        if origin in ("env", "flag") and layer:
            _log.info("%s set %s", "environment variables" if origin == "env" else "flags",
                      ", ".join(sorted(layer)))
    if sources["base_url"].startswith("env "):
        _log.info("base_url %s from %s", values["base_url"], sources["base_url"][4:])
    _log.info("profile %s; %d settings set by a layer, the rest defaults", profile,
              sum(origin != "default" for origin in sources.values()))
    for name in SETTING_NAMES:
        if sources[name] != "default":
            shown = "(set, not shown)" if name == "youtube_api_key" else repr(values[name])
            _log.debug("%s = %s (%s)", name, shown, sources[name])


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
    user_path: Path | None = None,
) -> Settings:
    """Merge every layer into one Settings, remembering where each value came from.

    `flags` holds only options the user actually gave (None means not given); `env` stands
    for the process environment (SHAWGPT_*, and OPENAI_BASE_URL / OLLAMA_HOST for the openai
    backend); `toml_path` for ./shawgpt.toml and `user_path` for the user's config.toml
    (default: user_config_file()). A value's origin is "flag", "env", "env OPENAI_BASE_URL",
    "env OLLAMA_HOST", the file's path, "profile NAME" or "default".
    """
    environ = os.environ if env is None else env
    user = user_path or user_config_file(env)
    project = toml_path or Path(CONFIG_FILE)
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(user), _read_file(user, "user")),
        (str(project), _read_file(project, "project")),
        ("env", _read_env(environ)),
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
    if values.get("backend", _DEFAULTS.backend) == "openai" and sources["base_url"] == "default":
        found = _openai_base_url(environ)
        if found is not None:
            values["base_url"], sources["base_url"] = found
    _log_origins(profile, layers, values, sources)
    settings = replace(_DEFAULTS, **values, sources=sources)
    validate(settings)
    return settings
