"""Many readers, one writer on a shared S3 index: two `serve --read-only` replicas follow a writer's
commits; a writer killed mid-run leaves readers on a whole version and the next run completes it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from servers import RagpilotProcess

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.retrieval.searcher import Searcher

pytestmark = pytest.mark.slow


def cli(*args: str, home: Path, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "RAGPILOT_HOME": str(home), **(env or {})}, timeout=300, **kw)


def paths_found(url: str, query: str) -> list[str]:
    response = httpx.post(f"{url}/search", json={"query": query, "k": 5}, timeout=30)
    response.raise_for_status()
    return [hit["path"] for hit in response.json()]


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_two_replicas_follow_the_writer(sample_repo, s3_uri, tmp_path):
    writer_home, marker = tmp_path / "writer", "quasar_flux_capacitor"
    done = cli("index", "--index-uri", s3_uri, "--embedder", "hashing", str(sample_repo), home=writer_home)
    assert done.returncode == 0, done.stderr

    replicas = [RagpilotProcess(["--read-only", "--index-uri", s3_uri, "--refresh-seconds", "1"],
                                tmp_path / f"replica-{i}", tmp_path / f"replica-{i}.log") for i in (1, 2)]
    for replica in replicas:
        replica.start()
    try:
        for replica in replicas:
            status = httpx.get(f"{replica.url}/status", timeout=10).json()["repos"][0]
            assert status["root"] == str(sample_repo) and status["replica"]["version"] is not None
            assert marker not in " ".join(paths_found(replica.url, marker))
            assert "src/http/retry.py" in paths_found(replica.url, "RetryPolicy")

        (sample_repo / "src" / "flux.py").write_text(f"def {marker}():\n    return 'flux'\n")
        again = cli("index", "--index-uri", s3_uri, "--embedder", "hashing", str(sample_repo), home=writer_home)
        assert again.returncode == 0, again.stderr
        for replica in replicas:  # refresh every second: well within the bound, without a restart
            assert wait_for(lambda url=replica.url: "src/flux.py" in paths_found(url, marker), 30), replica.log()
        # A replica may not write: its local folder has no lock taken, the store's lease log no claim by it.
    finally:
        for replica in replicas:
            replica.stop()


def test_a_pinned_searcher_never_sees_a_later_commit(sample_repo, s3_uri, tmp_path):
    settings = IndexSettings(home=tmp_path / "home", index_uri=s3_uri, embedder="hashing")
    index_repo(sample_repo, settings)
    local = settings.index_dir_for(sample_repo)
    before = IndexStore.open(local).table.version
    pinned = Searcher.for_index(local, version=before)

    (sample_repo / "src" / "flux.py").write_text("def quasar_flux_capacitor():\n    return 1\n")
    index_repo(sample_repo, settings)
    assert "src/flux.py" not in [h.path for h in pinned.search("quasar_flux_capacitor", k=5)]
    moved = pinned.at_version(IndexStore.open(local).table.version)
    assert "src/flux.py" in [h.path for h in moved.search("quasar_flux_capacitor", k=5)]


def many_files(root: Path, count: int, tag: str) -> None:
    for i in range(count):
        (root / "gen").mkdir(exist_ok=True)
        (root / "gen" / f"mod_{i:04d}.py").write_text(
            f"def handler_{i}_{tag}(request):\n    '''Serve request {i} ({tag}).'''\n    return {i}\n")


def test_a_writer_killed_mid_run_leaves_a_whole_version_and_the_next_run_completes(sample_repo, s3_uri, tmp_path):
    home = tmp_path / "writer"
    many_files(sample_repo, 300, "v1")
    first = cli("index", "--index-uri", s3_uri, "--embedder", "hashing", str(sample_repo), home=home)
    assert first.returncode == 0, first.stderr
    settings = IndexSettings(home=tmp_path / "reader", index_uri=s3_uri, embedder="hashing")
    reader_dir = settings.index_dir_for(sample_repo)

    many_files(sample_repo, 300, "v2")  # every generated file changes
    proc = subprocess.Popen(
        [sys.executable, "-m", "ragpilot.serve.cli", "index", "--index-uri", s3_uri, "--embedder", "hashing",
         str(sample_repo)],
        # A lease that would hold for 10 minutes: the next run must break it, not wait it out.
        env={**os.environ, "RAGPILOT_HOME": str(home), "RAGPILOT_FILES_PER_BATCH": "10",
             "RAGPILOT_LEASE_SECONDS": "600"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:  # progress lines: kill once some batches are committed, mid-run
        seen.append(line)
        if line.startswith("index:") and 60 <= int(line.split()[1].split("/")[0]) < 250:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)

    # Readers: the index is whole (some files at v2, the rest at v1), never an error or a torn file.
    store = IndexStore.open(reader_dir)
    assert Searcher.for_index(reader_dir).search("handler serve request", k=3)
    rows = store.all_keys()
    assert len([r for r in rows if r[0].startswith("gen/")]) == 300  # one row per file: none lost or doubled
    versions = {re.search(r"\((v\d)\)", row["content"]).group(1) for i in range(300)
                for row in store.rows_for_path(f"gen/mod_{i:04d}.py")}
    assert versions == {"v1", "v2"}, versions  # killed mid-run: some files written, the rest as before

    # The next run, on the same machine, takes over the dead writer's lease at once and completes.
    resumed = cli("index", "--index-uri", s3_uri, "--embedder", "hashing", str(sample_repo), home=home)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    fresh_home = tmp_path / "fresh"
    fresh = IndexSettings(home=fresh_home, index_dir=tmp_path / "fresh-index", embedder="hashing")
    index_repo(sample_repo, fresh)
    assert IndexStore.open(reader_dir).all_keys() == IndexStore.open(fresh.index_dir_for(sample_repo)).all_keys()
