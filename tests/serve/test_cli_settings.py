"""``ragpilot serve`` refuses unsafe setups before binding anything; settings come from flags and env."""

from __future__ import annotations

import json

import pytest

from ragpilot.indexer.errors import UsageError
from ragpilot.serve.cli import main
from ragpilot.serve.settings import ServeSettings, is_loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org", "::"])
def test_binding_beyond_loopback_without_a_key_is_refused(host, sample_repo, ragpilot_home, capsys):
    code = main(["serve", "--host", host, "--embedder", "hashing", str(sample_repo)])
    assert code == 2
    assert "--api-key" in " ".join(capsys.readouterr().err.split())
    assert not ragpilot_home.exists()  # refused before indexing anything


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_key(host):
    assert is_loopback(host)
    ServeSettings(host=host).check_access()


def test_a_key_or_an_explicit_opt_out_allows_other_hosts(monkeypatch):
    ServeSettings(host="0.0.0.0", api_key="k").check_access()
    ServeSettings(host="0.0.0.0", insecure_no_auth=True).check_access()
    monkeypatch.setenv("RAGPILOT_API_KEY", "from-env")
    settings = ServeSettings(host="0.0.0.0")
    assert settings.api_key == "from-env"
    settings.check_access()
    with pytest.raises(UsageError):
        ServeSettings(host="10.0.0.1", api_key="").check_access()


def test_settings_read_ragpilot_env_vars(monkeypatch):
    monkeypatch.setenv("RAGPILOT_PORT", "9999")
    monkeypatch.setenv("RAGPILOT_UPSTREAM", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("RAGPILOT_EMBEDDER", "hashing")
    s = ServeSettings()
    assert s.port == 9999 and s.chat_backend_name() == "openai-upstream"
    assert s.index.embedder == "hashing"


def test_serving_a_missing_path_is_one_clear_error(tmp_path, capsys):
    assert main(["serve", "--embedder", "hashing", str(tmp_path / "nope")]) == 2
    assert "no such directory" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("command", ["serve", "mcp", "continue-config"])
def test_an_empty_path_is_refused_rather_than_meaning_the_current_directory(command, capsys):
    assert main([command, ""]) == 2
    assert "path is empty" in " ".join(capsys.readouterr().err.split())


def test_ragpilot_search_applies_the_retrieval_variables(tmp_path, ragpilot_home, monkeypatch, capsys):
    """``RAGPILOT_MAX_PER_FILE`` caps hits per file in ``ragpilot search`` as it does in ``serve``."""
    repo = tmp_path / "knobs"
    repo.mkdir()
    body = "".join(f"    x{i} = alpha_value + {i}  # alpha computation step {i}\n" for i in range(60))
    (repo / "a.py").write_text("".join(f"def alpha_{n}():\n{body}    return x0\n\n\n" for n in range(4)))
    (repo / "b.py").write_text("def alpha_b():\n    return 3\n")
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()

    def paths() -> list[str]:
        assert main(["search", "alpha", "--repo", str(repo), "--json"]) == 0
        return [hit["path"] for hit in json.loads(capsys.readouterr().out)]

    default = paths()
    assert default.index("b.py") > 1  # a.py's chunks come first while 8 per file are allowed
    monkeypatch.setenv("RAGPILOT_MAX_PER_FILE", "1")
    capped = paths()
    # One hit per file while another file has results, then the cap fills up to k (retrieval/fusion.py).
    assert capped[:2] == ["a.py", "b.py"] and len(capped) == len(default)


@pytest.mark.parametrize(("variable", "value"), [("RAGPILOT_FUSION", "bogus"), ("RAGPILOT_TEST_FACTOR", "-1"),
                                                 ("RAGPILOT_SOURCES_BEST", "many")])
def test_a_bad_retrieval_variable_is_one_line_naming_it(variable, value, tmp_path, ragpilot_home, monkeypatch,
                                                        capsys):
    repo = tmp_path / "bad-knob"
    repo.mkdir()
    (repo / "a.py").write_text("def alpha():\n    return 1\n")
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()
    monkeypatch.setenv(variable, value)
    assert main(["search", "alpha", "--repo", str(repo), "--direct"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{variable}={value!r}" in err and "internal error" not in err
