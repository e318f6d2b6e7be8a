"""``ragpilot search`` while a real ``ragpilot serve`` or ``ragpilot watch`` holds the repository: the
search is answered by that process (its own request log shows it), prints exactly what the direct
search prints, respects the API key, and falls back when the process is killed; a clean stop removes
the holder record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from servers import RagpilotProcess, index_with_hashing  # noqa: E402

KEY = "sk-holder-test-key"
QUERY = "should_retry"


def ragpilot(*args: str, home: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("RAGPILOT_API_KEY", "RAGPILOT_NO_SERVER")}
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**clean, "RAGPILOT_HOME": str(home), **(env or {})})


def search_json(repo: Path, home: Path, *extra: str, env: dict | None = None) -> list[dict]:
    result = ragpilot("search", QUERY, "--repo", str(repo), "-k", "4", "--json", *extra, home=home, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def records(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob("server-*.json"))


def served_searches(proc: RagpilotProcess) -> int:
    return proc.log().count('"POST /search HTTP/1.1" 200')


@pytest.fixture
def indexed(sample_repo: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    home = tmp_path / "home"
    settings = index_with_hashing(sample_repo, home)
    return sample_repo, home, settings.index_dir_for(sample_repo)


def serve_args(repo: Path, tmp_path: Path, *extra: str) -> list[str]:
    broken = tmp_path / "broken.gguf"  # no chat model to load: retrieval only, a quick start
    broken.write_bytes(b"not a GGUF file")
    return ["--no-index", "--model", str(broken), *extra, str(repo)]


def test_search_is_answered_by_a_running_serve_with_the_direct_output(indexed, tmp_path):
    repo, home, index_dir = indexed
    with RagpilotProcess(serve_args(repo, tmp_path), home, tmp_path / "serve.log", global_args=("-v",)) as proc:
        assert len(records(index_dir)) == 1
        assert served_searches(proc) == 0
        direct = search_json(repo, home, "--direct")
        assert served_searches(proc) == 0
        through = search_json(repo, home)
        assert served_searches(proc) == 1
        assert through == direct and through[0]["path"] == "src/http/retry.py"
        text_through = ragpilot("search", QUERY, "--repo", str(repo), home=home).stdout
        text_direct = ragpilot("search", QUERY, "--repo", str(repo), "--direct", home=home).stdout
        assert served_searches(proc) == 2 and text_through == text_direct
    assert records(index_dir) == []  # a clean stop removes the record


def test_a_serve_with_an_api_key_answers_only_a_cli_that_has_the_key(indexed, tmp_path):
    repo, home, index_dir = indexed
    with RagpilotProcess(serve_args(repo, tmp_path), home, tmp_path / "keyed.log", global_args=("-v",),
                         env={"RAGPILOT_API_KEY": KEY}) as proc:
        (path,) = records(index_dir)
        assert KEY not in path.read_text()  # the record never holds the key
        token = json.loads(path.read_text())["token"]
        # the holder token is no substitute for the key
        assert httpx.post(f"{proc.url}/search", json={"query": QUERY}, timeout=10,
                          headers={"X-Ragpilot-Holder": token, "Authorization": f"Bearer {token}"}).status_code == 401
        direct = search_json(repo, home)  # no key in this shell: searched directly, the server not asked
        assert served_searches(proc) == 0
        assert search_json(repo, home, env={"RAGPILOT_API_KEY": KEY}) == direct
        assert served_searches(proc) == 1
        assert search_json(repo, home, env={"RAGPILOT_API_KEY": "wrong"}) == direct  # 401: direct again
        assert served_searches(proc) == 1


def test_search_falls_back_when_the_serve_is_killed_and_drops_its_record(indexed, tmp_path):
    repo, home, index_dir = indexed
    with RagpilotProcess(serve_args(repo, tmp_path), home, tmp_path / "killed.log") as proc:
        direct = search_json(repo, home, "--direct")
        proc.proc.send_signal(signal.SIGKILL)
        proc.proc.wait(timeout=30)
        assert len(records(index_dir)) == 1  # a kill -9 leaves it behind
        assert search_json(repo, home) == direct
        assert records(index_dir) == []  # the process is gone: the record was stale and is removed


def test_search_is_answered_by_a_running_watch_until_it_is_stopped(indexed, tmp_path):
    repo, home, index_dir = indexed
    log = tmp_path / "watch.log"
    with open(log, "wb") as out:
        watch = subprocess.Popen([sys.executable, "-m", "ragpilot.serve.cli", "-vv", "watch", str(repo),
                                  "--embedder", "hashing"], stdout=out, stderr=subprocess.STDOUT,
                                 env={**os.environ, "RAGPILOT_HOME": str(home)})
        try:
            deadline = time.monotonic() + 120
            while not records(index_dir):
                assert watch.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            direct = search_json(repo, home, "--direct")
            assert log.read_text().count('"POST /search HTTP/1.1" 200') == 0
            assert search_json(repo, home) == direct
            assert log.read_text().count('"POST /search HTTP/1.1" 200') == 1
        finally:
            watch.send_signal(signal.SIGTERM)  # stops as Ctrl-C does
            assert watch.wait(timeout=60) == 0, log.read_text()
    assert records(index_dir) == []
    assert "watcher stopped" in log.read_text()
