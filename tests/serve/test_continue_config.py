"""``ragpilot continue-config`` prints configuration Continue can load as is (YAML and JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ragpilot.serve.cli import cli  # the group with every command registered
from ragpilot.serve.continue_config import KEY_PLACEHOLDER, base_url, config_json, config_yaml
from ragpilot.serve.settings import ServeSettings



def settings_for(repo: Path, **kw) -> ServeSettings:
    return ServeSettings(repos=[repo], **kw)


def test_the_yaml_declares_the_http_provider_the_chat_model_and_the_mcp_server(sample_repo):
    doc = yaml.safe_load(config_yaml(settings_for(sample_repo, port=9123, k=5), [sample_repo]))
    provider, map_provider = doc["context"]
    assert provider["provider"] == "http"
    params = provider["params"]
    assert params["url"] == "http://127.0.0.1:9123/retrieve"
    assert params["title"] and params["options"] == {"k": 5}
    assert "headers" not in params  # no key, no header
    assert map_provider["provider"] == "http" and map_provider["params"]["url"] == params["url"]
    assert map_provider["params"]["options"] == {"map": True}
    assert map_provider["params"]["title"] != params["title"]  # Continue needs unique titles
    (model,) = doc["models"]
    assert model["provider"] == "openai" and model["model"] == "ragpilot"
    assert model["apiBase"] == "http://127.0.0.1:9123/v1"
    (server,) = doc["mcpServers"]
    assert server["command"] == "ragpilot" and server["args"] == ["mcp", str(sample_repo)]


def test_the_json_form_has_the_same_three_parts(sample_repo):
    doc = json.loads(config_json(settings_for(sample_repo), [sample_repo]))
    provider, map_provider = doc["contextProviders"]
    assert provider["name"] == "http" and provider["params"]["url"].endswith(":8765/retrieve")
    assert map_provider["name"] == "http" and map_provider["params"]["options"] == {"map": True}
    assert doc["models"][0]["apiBase"].endswith(":8765/v1")
    (mcp,) = doc["experimental"]["modelContextProtocolServers"]
    assert mcp["transport"] == {"type": "stdio", "command": "ragpilot", "args": ["mcp", str(sample_repo)]}


def test_with_a_key_the_header_is_a_map_and_the_key_is_shown_only_when_asked(sample_repo):
    s = settings_for(sample_repo, api_key="k3y")
    hidden = yaml.safe_load(config_yaml(s, [sample_repo]))
    assert all(c["params"]["headers"] == {"Authorization": f"Bearer {KEY_PLACEHOLDER}"} for c in hidden["context"])
    assert "k3y" not in config_yaml(s, [sample_repo]) + config_json(s, [sample_repo])
    shown = json.loads(config_json(s, [sample_repo], show_key=True))
    assert shown["contextProviders"][0]["params"]["headers"] == {"Authorization": "Bearer k3y"}
    assert shown["models"][0]["apiKey"] == "k3y"


def test_with_team_keys_only_the_header_holds_the_placeholder_even_when_asked_to_show_the_key(sample_repo, tmp_path):
    keys = tmp_path / "keys.toml"
    keys.write_text('[keys.team]\nkey = "team-secret"\nrepos = ["*"]\n')
    s = settings_for(sample_repo, keys_file=keys)
    for show_key in (False, True):
        doc = json.loads(config_json(s, [sample_repo], show_key=show_key))
        headers = [p["params"]["headers"] for p in doc["contextProviders"]]
        assert headers == [{"Authorization": f"Bearer {KEY_PLACEHOLDER}"}] * 2
        assert "team-secret" not in json.dumps(doc)


@pytest.mark.parametrize("host,url", [("0.0.0.0", "http://127.0.0.1:8765"), ("localhost", "http://127.0.0.1:8765"),
                                      ("192.168.1.5", "http://192.168.1.5:8765"), ("::1", "http://[::1]:8765")])
def test_the_url_is_one_a_local_editor_can_reach(sample_repo, host, url):
    assert base_url(settings_for(sample_repo, host=host)) == url


def test_the_command_prints_both_forms(sample_repo, ragpilot_home):
    result = CliRunner().invoke(cli, ["continue-config", "--port", "9001", str(sample_repo)], obj={})
    assert result.exit_code == 0, result.output
    yaml_part, json_part = result.output.split("// or, in the older ~/.continue/config.json:\n")
    assert yaml.safe_load(yaml_part)["context"][0]["params"]["url"] == "http://127.0.0.1:9001/retrieve"
    assert json.loads(json_part)["models"][0]["model"] == "ragpilot"
