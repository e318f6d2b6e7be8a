"""``ragpilot search`` asks the process that holds the repository (issue #13 item 3), in process: a
real index (hashing embedder), the real loopback search endpoint ``ragpilot watch`` runs, real holder
records in the index folder, and the CLI's ``main``. The ``serve`` and ``watch`` processes themselves
are in tests/e2e/test_search_via_holder.py."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ragpilot.indexer.location import index_dir_from_env
from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.retrieval import searcher, settings as retrieval_settings
from ragpilot.serve.cli import main
from ragpilot.serve.cli import search as search_cli
from ragpilot.serve.cli import server_client
from ragpilot.serve.cli.options import field_help
from ragpilot.serve.cli.quick_options import INDEX_DIR_HELP
from ragpilot.serve.discovery import HolderRecord, live_records, record_path, write_record
from ragpilot.serve.app import create_app
from ragpilot.serve.holder import HolderTokenCheck, SearchEndpoint, records_for
from ragpilot.serve.llm.upstream import UpstreamBackend
from ragpilot.serve.repos import RepoSet, ServedRepo
from ragpilot.serve.settings import ServeSettings

QUERY = "should_retry"


@pytest.fixture
def indexed(sample_repo: Path, ragpilot_home: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.delenv("RAGPILOT_NO_SERVER", raising=False)
    monkeypatch.delenv("RAGPILOT_API_KEY", raising=False)
    settings = IndexSettings(embedder="hashing")
    index_repo(sample_repo, settings)
    return sample_repo, settings.index_dir_for(sample_repo)


@pytest.fixture
def endpoint(indexed):
    """The watch holder's endpoint over the indexed sample repository, announced in its index folder."""
    root, index_dir = indexed
    settings = IndexSettings(embedder="hashing")
    repos = RepoSet([ServedRepo(root, settings, retrieval=retrieval_settings.RetrievalSettings())])
    with SearchEndpoint(repos, "the-token") as running:
        (folder, record), = records_for(repos, kind="watch", host=running.host, port=running.port,
                                        pid=os.getpid(), token="the-token")
        path = write_record(folder, record)
        yield running
        path.unlink(missing_ok=True)
    repos.close()


def cli_search(capsys, *args: str) -> str:
    assert main(["search", QUERY, "-k", "3", *args]) == 0
    return capsys.readouterr().out


def direct_json(capsys, root: Path) -> list[dict]:
    return json.loads(cli_search(capsys, "--repo", str(root), "--json", "--direct"))


# ----- the quick path's copies of settings ----------------------------------------------------------


def test_the_quick_search_flags_match_the_settings_they_copy():
    assert search_cli.MODES == searcher.MODES
    assert search_cli.MAX_K == retrieval_settings.MAX_K
    assert search_cli.DEFAULT_RERANKER == retrieval_settings.DEFAULT_RERANKER
    assert INDEX_DIR_HELP == field_help(IndexSettings, "index_dir")


@pytest.mark.parametrize("env", [
    {}, {"RAGPILOT_HOME": "{tmp}/h1"}, {"ragpilot_home": "{tmp}/h2"}, {"RAGPILOT_INDEX_DIR": "{tmp}/idx"},
    {"RAGPILOT_HOME": "{tmp}/h3", "RAGPILOT_INDEX_DIR": "{tmp}/idx2"},
])
def test_the_index_folder_without_the_settings_model_is_the_one_the_settings_name(env, tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.lower() in ("ragpilot_home", "ragpilot_index_dir")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    root = tmp_path / "some repo"
    root.mkdir()
    assert index_dir_from_env(root) == IndexSettings().index_dir_for(root)
    assert index_dir_from_env(root, tmp_path / "flag") == IndexSettings(index_dir=tmp_path / "flag").index_dir_for(root)


# ----- records --------------------------------------------------------------------------------------


def record(index_dir: Path, **fields) -> HolderRecord:
    values = {"kind": "watch", "host": "127.0.0.1", "port": 9, "pid": os.getpid(), "token": "t",
              "repo_root": "/r", "index_dir": str(index_dir), "embedder_id": "hashing-384", **fields}
    return HolderRecord(**values)


def test_a_holder_record_is_private_to_the_user_and_written_whole(tmp_path):
    path = write_record(tmp_path, record(tmp_path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left beside it
    assert live_records(tmp_path) == [record(tmp_path, started_at=live_records(tmp_path)[0].started_at)]


def test_the_record_of_a_process_that_is_gone_is_removed_and_not_used(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = write_record(tmp_path, record(tmp_path, pid=int(gone.stdout)))
    assert live_records(tmp_path) == []
    assert not path.exists()


def test_a_record_others_can_read_or_write_is_ignored(tmp_path):
    path = write_record(tmp_path, record(tmp_path))
    path.chmod(0o644)
    assert live_records(tmp_path) == []


# ----- search through the holder ---------------------------------------------------------------------


def test_search_is_answered_by_the_holder_and_prints_what_the_direct_search_prints(endpoint, indexed, capsys):
    root, _ = indexed
    direct = direct_json(capsys, root)
    assert endpoint.requests == 0
    through = json.loads(cli_search(capsys, "--repo", str(root), "--json"))
    assert endpoint.requests == 1
    assert through == direct and through[0]["path"] == "src/http/retry.py"

    human_direct = cli_search(capsys, "--repo", str(root), "--direct")
    human_through = cli_search(capsys, "--repo", str(root))
    assert endpoint.requests == 2
    assert human_through == human_direct and "src/http/retry.py" in human_through


def test_file_ranking_is_answered_by_the_holder_as_the_direct_search_ranks_files(endpoint, indexed, capsys):
    root, _ = indexed
    direct = json.loads(cli_search(capsys, "--repo", str(root), "--json", "--files", "--direct"))
    through = json.loads(cli_search(capsys, "--repo", str(root), "--json", "--files"))
    assert endpoint.requests == 1 and through == direct


@pytest.mark.parametrize("how", ["--direct", "RAGPILOT_NO_SERVER=1", "--rerank"])
def test_direct_or_no_server_or_rerank_open_the_index_here(how, endpoint, indexed, capsys, monkeypatch):
    root, _ = indexed
    args = ["--repo", str(root), "--json"]
    if how.startswith("RAGPILOT"):
        monkeypatch.setenv(*how.split("="))
    elif how == "--rerank":
        args += ["--rerank", "--reranker", "no-such-reranker"]  # direct: the unknown name is refused here
        assert main(["search", QUERY, *args]) != 0
        assert endpoint.requests == 0
        return
    else:
        args.append(how)
    assert json.loads(cli_search(capsys, *args))
    assert endpoint.requests == 0


def test_a_holder_with_another_embedder_or_other_retrieval_settings_is_not_asked(endpoint, indexed, capsys,
                                                                                 monkeypatch):
    root, index_dir = indexed
    monkeypatch.setenv("RAGPILOT_RRF_K", "7")  # this shell fuses differently from the holder
    assert json.loads(cli_search(capsys, "--repo", str(root), "--json"))
    assert endpoint.requests == 0
    monkeypatch.delenv("RAGPILOT_RRF_K")
    path = record_path(index_dir)
    data = json.loads(path.read_text())
    write_record(index_dir, HolderRecord.from_json({**data, "embedder_id": "minilm-onnx-int8"}))
    assert json.loads(cli_search(capsys, "--repo", str(root), "--json"))
    assert endpoint.requests == 0


def test_the_endpoint_answers_only_requests_with_its_token(endpoint):
    import http.client

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=5)
        conn.request("POST", "/search", body=json.dumps({"query": QUERY}), headers=headers)
        response = conn.getresponse()
        assert response.status == 401, headers
        assert json.loads(response.read())["error"]["type"] == "authentication_error"
        conn.close()
    assert endpoint.requests == 0


# ----- falling back ---------------------------------------------------------------------------------


@pytest.fixture
def client_log(caplog, monkeypatch):
    """The client's debug lines (a logging.config call elsewhere in the session may have disabled the
    logger, as dictConfig does to existing loggers)."""
    monkeypatch.setattr(logging.getLogger(server_client.__name__), "disabled", False)
    caplog.set_level(logging.DEBUG, logger=server_client.__name__)
    return caplog


def holder_record_for(index_dir: Path, root: Path, port: int, token: str = "t") -> Path:
    data = json.loads((index_dir / "meta.json").read_text())
    return write_record(index_dir, record(index_dir, port=port, token=token, repo_root=str(root),
                                          embedder_id=data["embedder_id"]))


def test_a_holder_that_is_gone_from_its_port_means_searching_directly(indexed, capsys, client_log):
    root, index_dir = indexed
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    holder_record_for(index_dir, root, port)
    direct = direct_json(capsys, root)
    assert json.loads(cli_search(capsys, "--repo", str(root), "--json")) == direct
    assert "did not answer" in client_log.text and "searching directly" in client_log.text


def test_a_holder_that_hangs_costs_a_short_timeout_then_the_direct_search(indexed, capsys, client_log, monkeypatch):
    root, index_dir = indexed
    monkeypatch.setattr(server_client, "TIMEOUT_S", 0.3)
    with socket.socket() as hung:  # accepts connections (the kernel does), never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        holder_record_for(index_dir, root, hung.getsockname()[1])
        direct = direct_json(capsys, root)
        assert json.loads(cli_search(capsys, "--repo", str(root), "--json")) == direct
    assert "timed out" in client_log.text


def test_a_holder_answering_an_error_means_searching_directly(endpoint, indexed, capsys, client_log):
    root, index_dir = indexed
    holder_record_for(index_dir, root, endpoint.port, token="not-the-token")  # the endpoint answers 401
    direct = direct_json(capsys, root)
    assert json.loads(cli_search(capsys, "--repo", str(root), "--json")) == direct
    assert endpoint.requests == 0 and "answered 401" in client_log.text


# ----- the token in front of serve ------------------------------------------------------------------


def test_serve_refuses_another_holders_token_and_its_own_token_is_no_api_key(served, index_settings, fake):
    settings = ServeSettings(repos=[r.root for r in served.repos], index=index_settings, api_key="the-key")
    app = create_app(settings, repos=served, llm=UpstreamBackend(fake.url, model=fake.model))
    app.add_middleware(HolderTokenCheck, token="this-token")
    body = {"query": QUERY, "k": 2}
    with TestClient(app) as client:
        other = client.post("/search", json=body, headers={"X-Ragpilot-Holder": "other-token",
                                                           "Authorization": "Bearer the-key"})
        assert other.status_code == 409 and other.json()["error"]["code"] == "holder_mismatch"
        own_token_only = client.post("/search", json=body, headers={"X-Ragpilot-Holder": "this-token",
                                                                    "Authorization": "Bearer this-token"})
        assert own_token_only.status_code == 401
        assert client.post("/search", json=body, headers={"X-Ragpilot-Holder": "this-token",
                                                          "Authorization": "Bearer the-key"}).status_code == 200
        assert client.post("/search", json=body, headers={"Authorization": "Bearer the-key"}).status_code == 200
