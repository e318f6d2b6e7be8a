"""The file watcher keeps the index live: real watchdog, real files, real LanceDB (hashing embedder)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
from watching import Harness, py_source, token, wait_for

from ragpilot.indexer.errors import IndexBusyError
from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore
from ragpilot.indexer.watch_status import STATUS_FILE
from ragpilot.indexer.live import watch_repo
from ragpilot.indexer import watcher as watcher_module
from ragpilot.indexer.watcher import BatchReport, RepoWatcher, coalesce, read_watcher_status

@pytest.fixture
def harness_factory(fast_settings):
    made: list[Harness] = []

    def make(repo: Path, **kwargs) -> Harness:
        h = Harness(repo, fast_settings, **kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.fixture
def harness(sample_repo, harness_factory) -> Harness:
    return harness_factory(sample_repo)


# ----- single changes ------------------------------------------------------------------------------
def test_a_created_file_becomes_searchable(harness):
    marker = token()
    harness.write("src/new_module.py", py_source("fresh", marker))
    wait_for(lambda: marker in harness.text("src/new_module.py"), "the new file to be indexed")
    assert harness.watcher.state().live


def test_a_modified_file_is_reindexed_at_its_new_content(harness):
    marker = token()
    path = harness.repo / "src/http/retry.py"
    path.write_text(path.read_text() + f"\n\ndef added():\n    return '{marker}'\n")
    wait_for(lambda: marker in harness.text("src/http/retry.py"), "the edit to be indexed")
    rows = harness.rows("src/http/retry.py")
    assert len({(r["start_line"], r["end_line"]) for r in rows}) == len(rows), "duplicate rows for one file"


def test_a_deleted_file_leaves_the_index(harness):
    assert "src/storage/cache.go" in harness.paths()
    (harness.repo / "src/storage/cache.go").unlink()
    wait_for(lambda: "src/storage/cache.go" not in harness.paths(), "the deleted file to leave the index")


def test_a_renamed_file_moves_in_the_index(harness):
    before = harness.text("web/parseQuery.ts")
    os.rename(harness.repo / "web/parseQuery.ts", harness.repo / "web/query.ts")
    wait_for(lambda: "web/query.ts" in harness.paths() and "web/parseQuery.ts" not in harness.paths(),
             "the rename to be applied")
    assert harness.text("web/query.ts") == before


def test_renaming_a_directory_moves_every_file_under_it(harness):
    harness.write("src/http/client.py", py_source("client", token()))
    wait_for(lambda: "src/http/client.py" in harness.paths(), "the extra file")
    os.rename(harness.repo / "src/http", harness.repo / "src/net")
    wanted = {"src/net/retry.py", "src/net/client.py"}

    def moved() -> bool:
        paths = harness.paths()
        return wanted <= paths and not any(p.startswith("src/http/") for p in paths)

    wait_for(moved, "the directory rename to be applied")


def test_deleting_a_directory_removes_every_file_under_it(harness):
    shutil.rmtree(harness.repo / "src")
    wait_for(lambda: not any(p.startswith("src/") for p in harness.paths()), "src/ to leave the index")
    assert {"web/parseQuery.ts", "docs/guide.md"} <= harness.paths()


def test_a_directory_moved_in_from_outside_is_indexed(harness, tmp_path):
    outside = tmp_path / "elsewhere" / "pkg"
    outside.mkdir(parents=True)
    marker = token()
    (outside / "mod.py").write_text(py_source("moved_in", marker))
    shutil.move(str(outside), str(harness.repo / "pkg"))
    wait_for(lambda: marker in harness.text("pkg/mod.py"), "the moved-in directory to be indexed")


def test_an_atomic_save_replaces_the_file_content(harness):
    marker = token()
    target = harness.repo / "src/http/retry.py"
    tmp = target.with_name(".retry.py.tmp~" + uuid.uuid4().hex[:6])
    tmp.write_text(py_source("saved_atomically", marker))
    os.replace(tmp, target)
    wait_for(lambda: marker in harness.text("src/http/retry.py") and harness.settled(), "the atomic save")
    assert "RetryPolicy" not in harness.text("src/http/retry.py")
    assert not [p for p in harness.paths() if ".tmp~" in p], "the editor's temp file was left in the index"


# ----- coalescing -----------------------------------------------------------------------------------
def test_a_file_saved_five_times_quickly_is_embedded_once_at_its_final_content(sample_repo, harness_factory):
    h = harness_factory(sample_repo, debounce_s=1.0, max_batch_delay_s=30.0)
    markers = [token() for _ in range(5)]
    for m in markers:
        h.write("src/burst.py", py_source("burst", m))
    wait_for(lambda: markers[-1] in h.text("src/burst.py") and h.settled(), "the final save to be indexed")
    touching = [r for r in h.reports if "src/burst.py" in r.paths]
    assert len(touching) == 1, f"the saves were indexed in {len(touching)} batches"
    rows = h.rows("src/burst.py")
    assert touching[0].chunks_embedded == len(rows) >= 1
    stored = h.text("src/burst.py")
    assert not any(m in stored for m in markers[:-1])


def test_a_burst_of_many_new_files_is_applied_in_a_few_batches(sample_repo, harness_factory):
    h = harness_factory(sample_repo, debounce_s=0.5, max_batch_delay_s=30.0)
    names = [f"gen/m{i:03d}.py" for i in range(300)]
    for i, rel in enumerate(names):
        h.write(rel, py_source(f"f{i}", token()))
    wait_for(lambda: set(names) <= h.paths() and h.settled(), "all 300 files", timeout=60)
    batches = [r for r in h.reports if r.ok and r.files_indexed]
    assert 1 <= len(batches) <= 3
    assert sum(r.files_indexed for r in batches) == 300


def test_coalesce_keeps_directories_and_drops_what_they_cover(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.py").write_text("x = 1\n")
    (tmp_path / "f").write_text("now a file\n")
    paths = ["a/b/x.py", "a", "gone/y.py", "gone", "f", "f/old.py", "z.py"]
    # "f" is a file now: its old children must still be evaluated one by one.
    assert coalesce(tmp_path, paths) == ["a", "f", "f/old.py", "gone", "z.py"]


# ----- ignore rules ---------------------------------------------------------------------------------
def test_gitignore_changes_remove_and_readd_files(git_repo, harness_factory):
    h = harness_factory(git_repo)
    assert "docs/guide.md" in h.paths()
    (git_repo / ".gitignore").write_text("docs/\n")
    wait_for(lambda: "docs/guide.md" not in h.paths(), "the newly ignored file to leave the index")
    assert "src/http/retry.py" in h.paths()
    (git_repo / ".gitignore").write_text("# nothing ignored\n")
    wait_for(lambda: "docs/guide.md" in h.paths(), "the un-ignored file to come back")


def test_git_info_exclude_is_an_ignore_file_too(git_repo, harness_factory):
    h = harness_factory(git_repo)
    exclude = git_repo / ".git/info/exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    exclude.write_text("web/\n")
    wait_for(lambda: "web/parseQuery.ts" not in h.paths(), "the excluded file to leave the index")


def test_a_directory_that_becomes_a_virtualenv_leaves_the_index(harness):
    harness.write("tools/env/lib/site.py", py_source("site_mod", token()))
    wait_for(lambda: "tools/env/lib/site.py" in harness.paths(), "the file before the directory is a venv")
    harness.write("tools/env/pyvenv.cfg", "home = /usr/bin\n")
    wait_for(lambda: "tools/env/lib/site.py" not in harness.paths() and harness.settled(),
             "the virtualenv's files to leave the index")
    assert "src/http/retry.py" in harness.paths()


def test_changes_in_ignored_directories_never_reach_the_indexer(git_repo, harness_factory):
    h = harness_factory(git_repo)
    (git_repo / ".gitignore").write_text("build/\n")
    wait_for(lambda: h.settled() and h.reports, "the .gitignore change to be applied")
    h.reports.clear()
    for i in range(20):
        h.write(f"node_modules/pkg{i}/index.js", f"module.exports = {i};\n")
        h.write(f"build/out{i}.py", py_source(f"built{i}", token()))
    (git_repo / ".git" / "scratch").write_text("git internals churn\n")
    marker = token()
    h.write("src/real.py", py_source("real", marker))
    wait_for(lambda: marker in h.text("src/real.py") and h.settled(), "the real change")
    seen = {p for r in h.reports for p in r.paths}
    assert not any(p.startswith(("node_modules", "build", ".git")) for p in seen), seen
    assert not any(r.rescan for r in h.reports)
    assert not any(p.startswith(("node_modules/", "build/")) for p in h.paths())


def test_an_index_stored_inside_the_repository_does_not_feed_itself(sample_repo, tmp_path):
    settings = IndexSettings(home=tmp_path / "home", index_dir=sample_repo / ".ragpilot-index",
                             embedder="hashing")
    h = Harness(sample_repo, settings)
    try:
        marker = token()
        h.write("src/inside.py", py_source("inside", marker))
        wait_for(lambda: marker in h.text("src/inside.py") and h.settled(), "the change")
        time.sleep(0.5)  # the batch's own writes to the index must not start another batch
        assert h.settled()
        assert all(not p.startswith(".ragpilot-index") for r in h.reports for p in r.paths)
        assert len(h.reports) == 1
    finally:
        h.close()


# ----- concurrency and safety -----------------------------------------------------------------------
def test_a_reader_never_sees_a_file_twice_or_missing_while_updates_apply(sample_repo, harness_factory):
    files = [f"live/v{i}.py" for i in range(6)]
    for rel in files:
        (sample_repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (sample_repo / rel).write_text(versioned(rel, 0))
    h = harness_factory(sample_repo, debounce_s=0.05, max_batch_delay_s=0.2)
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal reads
        store = IndexStore.open(h.index_dir)
        while not stop.is_set():
            try:
                table = store.table.to_arrow().select(["path", "id", "content"]).to_pylist()
            except Exception as err:  # noqa: BLE001 - a reader error is a finding
                problems.append(f"read failed: {err!r}")
                continue
            by_path: dict[str, list[dict]] = {}
            for row in table:
                by_path.setdefault(row["path"], []).append(row)
            for rel in files:
                rows = by_path.get(rel, [])
                versions = {v for r in rows for v in _versions(r["content"])}
                if not rows:
                    problems.append(f"{rel} had no rows")
                elif len(versions) != 1 or len({r["id"] for r in rows}) != len(rows):
                    problems.append(f"{rel} mixed or duplicated: {sorted(versions)} in {len(rows)} rows")
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, 9):
            for rel in files:  # atomic saves: the file on disk is never empty, so neither may its rows be
                tmp = sample_repo / (rel + ".tmp")
                tmp.write_text(versioned(rel, version))
                os.replace(tmp, sample_repo / rel)
            time.sleep(0.15)  # pacing, so the writes land in several batches
        wait_for(lambda: h.settled() and all("VERSION_8" in h.text(rel) for rel in files), "the last version")
    finally:
        stop.set()
        thread.join()
    assert reads > 5
    assert sum(1 for r in h.reports if r.ok) >= 2
    assert not problems, problems[:5]


def versioned(rel: str, version: int) -> str:
    name = rel.rsplit("/", 1)[-1].removesuffix(".py")
    body = "\n".join(f"    step_{i} = 'VERSION_{version}'" for i in range(version + 1))
    return f"def {name}_fn():\n{body}\n    return 'VERSION_{version}'\n\n\nclass {name.title()}:\n" \
           f"    tag = 'VERSION_{version}'\n"


def _versions(content: str) -> set[str]:
    return {part.split("'")[0] for part in content.split("VERSION_")[1:]}


def test_a_second_writer_is_refused_while_the_watcher_holds_the_lock(harness):
    with pytest.raises(IndexBusyError):
        Indexer(harness.repo, harness.settings).open()
    assert harness.watcher.state().live


def test_a_failed_batch_is_logged_and_its_paths_retried(harness, caplog, monkeypatch):
    real_update = harness.indexer.update
    calls = {"n": 0}

    def flaky(paths):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.EIO, "simulated disk error")
        return real_update(paths)

    monkeypatch.setattr(harness.indexer, "update", flaky)
    marker = token()
    with caplog.at_level("WARNING", logger="ragpilot.indexer.watcher"):
        harness.write("src/retried.py", py_source("retried", marker))
        wait_for(lambda: marker in harness.text("src/retried.py") and len(harness.reports) >= 2,
                 "the retried batch")
    state = harness.watcher.state()
    assert state.live and state.batches_failed == 1 and "simulated disk error" in state.last_error
    assert [r.ok for r in harness.reports][:2] == [False, True]
    assert "src/retried.py" in harness.reports[0].paths
    assert any("retrying" in rec.getMessage() for rec in caplog.records)


def test_a_path_that_always_fails_does_not_hold_back_the_others(harness, monkeypatch, caplog):
    real_update = harness.indexer.update

    def poisoned(paths):
        paths = list(paths)
        if "src/poison.py" in paths:
            raise ValueError("chunker bug on this file")
        return real_update(paths)

    monkeypatch.setattr(harness.indexer, "update", poisoned)
    # The back-off (0.5 s, 1 s, 2 s...) is not what this test is about: capped, the four attempts take
    # a fraction of a second instead of ~4 s.
    monkeypatch.setattr(watcher_module, "MAX_RETRY_DELAY_S", 0.05)
    good = token()
    with caplog.at_level("WARNING", logger="ragpilot.indexer.watcher"):
        harness.write("src/poison.py", py_source("poison", token()))
        harness.write("src/good.py", py_source("good", good))
        wait_for(lambda: good in harness.text("src/good.py"), "the good file despite the poisoned one")
        wait_for(harness.settled, "the watcher to give up on the poisoned file", timeout=30)
    state = harness.watcher.state()
    assert state.live and "chunker bug" in state.last_error and state.pending == 0
    assert any("giving up on src/poison.py" in r.getMessage() for r in caplog.records)
    assert "src/poison.py" not in harness.paths()


def test_stop_is_clean_and_idempotent(sample_repo, harness_factory):
    before = set(threading.enumerate())
    h = harness_factory(sample_repo)
    started = set(threading.enumerate()) - before
    assert any(t.name.startswith("ragpilot-watch") for t in started)
    h.watcher.stop()
    leftover = [t for t in started if t.is_alive() and not _shared_inotify_reader(t)]
    assert not leftover, leftover
    h.watcher.stop()
    assert not h.watcher.state().live
    assert read_watcher_status(h.index_dir)["live"] is False
    h.write("src/after_stop.py", py_source("after", token()))
    time.sleep(0.5)  # nothing may happen now; give a stray thread the chance to prove otherwise
    assert "src/after_stop.py" not in h.paths()


def _shared_inotify_reader(thread: threading.Thread) -> bool:
    """watchdog keeps one process-wide inotify reader thread, shared by every observer."""
    return type(thread).__name__ == "InotifyFD"


# ----- status file ----------------------------------------------------------------------------------
def test_the_status_file_says_live_while_watching(harness):
    marker = token()
    harness.write("src/status.py", py_source("status", marker))
    wait_for(lambda: (read_watcher_status(harness.index_dir) or {}).get("batches_applied"),
             "a batch in the status file")
    status = read_watcher_status(harness.index_dir)
    assert status["live"] is True and status["pid"] == os.getpid()
    assert status["backend"] == harness.watcher.state().backend
    assert status["last_batch_at"] is not None and status["behind_seconds"] >= 0


@pytest.mark.parametrize("change, reason", [({"pid": 2 ** 22 + 12345}, "gone"),
                                             ({"updated_at": 1.0}, "heartbeat")])
def test_a_dead_or_silent_watcher_is_not_live(tmp_path, change, reason):
    status = {"pid": os.getpid(), "live": True, "backend": "inotify", "pending": 0,
              "updated_at": time.time(), "behind_seconds": 0.0, **change}
    (tmp_path / STATUS_FILE).write_text(json.dumps(status))
    seen = read_watcher_status(tmp_path)
    assert seen["live"] is False and reason in seen["stale_reason"]


def test_no_status_file_means_no_watcher(tmp_path):
    assert read_watcher_status(tmp_path) is None


# ----- backends ---------------------------------------------------------------------------------------
def test_the_polling_backend_applies_changes(sample_repo, harness_factory):
    h = harness_factory(sample_repo, polling=True, poll_interval_s=0.2)
    assert h.watcher.state().backend == "polling"
    marker = token()
    h.write("src/polled.py", py_source("polled", marker))
    (sample_repo / "docs/guide.md").unlink()
    wait_for(lambda: marker in h.text("src/polled.py") and "docs/guide.md" not in h.paths(), "polled changes")


def test_hitting_the_inotify_limit_falls_back_to_polling(sample_repo, harness_factory, monkeypatch, caplog):
    import watchdog.observers

    class LimitedObserver(watchdog.observers.Observer):
        def start(self):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watchdog.observers, "Observer", LimitedObserver)
    with caplog.at_level("WARNING"):
        h = harness_factory(sample_repo, poll_interval_s=0.2)
    assert h.watcher.state().backend == "polling"
    assert any("falling back to polling" in r.getMessage() for r in caplog.records)
    marker = token()
    h.write("src/fallback.py", py_source("fallback", marker))
    wait_for(lambda: marker in h.text("src/fallback.py"), "the change seen by polling")


# ----- ragpilot watch ---------------------------------------------------------------------------------
def test_watch_repo_indexes_watches_and_releases_the_lock(sample_repo, fast_settings):
    stop = threading.Event()
    ready: list[RepoWatcher] = []
    reports: list[BatchReport] = []
    result: dict = {}

    def run() -> None:
        result["state"] = watch_repo(sample_repo, fast_settings, on_batch=reports.append, stop_event=stop,
                                     on_ready=ready.append)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_for(lambda: ready, "the watcher to start")
        with pytest.raises(IndexBusyError):
            Indexer(sample_repo, fast_settings).open()
        marker = token()
        (sample_repo / "src/watched.py").write_text(py_source("watched", marker))
        reader = IndexStore.open(fast_settings.index_dir_for(sample_repo))
        wait_for(lambda: any(marker in r["content"] for r in reader.rows_for_path("src/watched.py")),
                 "the change made while `ragpilot watch` runs")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert result["state"].live is False and result["state"].batches_applied >= 1
    Indexer(sample_repo, fast_settings).open().close()  # the writer lock was released


