"""One --index-uri with ``{repo}`` for many repositories: ``index`` writes each repository's index under
its folder name, ``serve --read-only`` replicas serve them by name, and a team key sees only its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from servers import RagpilotProcess
from test_replicas import cli

from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.location import expand_index_uri

pytestmark = pytest.mark.slow


def test_the_placeholder_is_the_repository_folder_name(tmp_path):
    assert expand_index_uri("s3://b/team/{repo}", tmp_path / "payments api") == "s3://b/team/payments_api"
    assert expand_index_uri("s3://b/one", tmp_path / "x") == "s3://b/one"
    with pytest.raises(UsageError, match="no folder name"):
        expand_index_uri("s3://b/{repo}", Path("/"))


def test_one_uri_indexes_and_serves_many_repositories(sample_repo, s3_server, s3_uri, tmp_path):
    api, web = tmp_path / "api", tmp_path / "web"
    shutil.copytree(sample_repo, api)
    web.mkdir()
    (web / "page.ts").write_text("export function renderCheckoutPage(cart: Cart): string {\n  return cart.id;\n}\n")
    template = s3_uri.rsplit("/", 1)[0] + "/{repo}"
    done = cli("index", "--index-uri", template, "--embedder", "hashing", "--json", str(api), str(web),
               home=tmp_path / "writer")
    assert done.returncode == 0, done.stderr
    summaries = [json.loads(line) for line in done.stdout.splitlines()]
    assert [s["files_indexed"] > 0 for s in summaries] == [True, True]
    bucket = s3_uri.split("/")[2]
    prefixes = {"/".join(key.split("/")[1:3]) for key in s3_server.keys(bucket)}
    assert {"api/chunks.lance", "web/chunks.lance"} <= prefixes  # team/<repo>/<table>

    keys = tmp_path / "keys.toml"
    keys.write_text('[keys.web]\nkey = "rpk_web_team_key_0123456789"\nrepos = ["web"]\n')
    replica = RagpilotProcess(["--read-only", "--index-uri", template, "--keys", str(keys), "api", "web"],
                              tmp_path / "replica", tmp_path / "replica.log",
                              env={"RAGPILOT_API_KEY": "rpk_admin_key_0123456789"})
    replica.start()
    try:
        admin = {"Authorization": "Bearer rpk_admin_key_0123456789"}
        status = httpx.get(f"{replica.url}/status", headers=admin, timeout=10).json()
        assert sorted(Path(r["root"]).name for r in status["repos"]) == ["api", "web"]
        assert {r["indexing"]["phase"] for r in status["repos"]} == {"read-only"}  # the writer keeps them
        symbols = httpx.get(f"{replica.url}/symbols", params={"name": "renderCheckoutPage", "repo": "web"},
                            headers=admin, timeout=30)
        assert symbols.status_code == 404 and "not kept for a shared index" in symbols.json()["error"]["message"]
        found = httpx.post(f"{replica.url}/search", json={"query": "renderCheckoutPage", "k": 3, "repo": "web"},
                           headers=admin, timeout=30).json()
        assert found[0]["path"] == "page.ts"
        found = httpx.post(f"{replica.url}/search", json={"query": "RetryPolicy should_retry", "k": 3, "repo": "api"},
                           headers=admin, timeout=30).json()
        assert found[0]["path"] == "src/http/retry.py"
        team = {"Authorization": "Bearer rpk_web_team_key_0123456789"}
        denied = httpx.post(f"{replica.url}/search", json={"query": "RetryPolicy", "k": 3, "repo": "api"},
                            headers=team, timeout=30)
        assert denied.status_code == 404
    finally:
        replica.stop()


def test_a_replica_of_many_must_name_them(s3_uri, tmp_path):
    template = s3_uri.rsplit("/", 1)[0] + "/{repo}"
    result = cli("serve", "--read-only", "--index-uri", template, home=tmp_path / "replica")
    assert result.returncode != 0 and "name them" in result.stderr
