"""The shared open-index-watch-stop lifecycle."""

from __future__ import annotations

import threading

from ragpilot.indexer.live import LiveIndex


def test_a_start_up_pass_records_its_progress_and_status_omits_the_skipped_paths(sample_repo, fast_settings):
    (sample_repo / "blob.bin").write_bytes(b"\x00\x01" * 100)
    live = LiveIndex(sample_repo, fast_settings)
    events = []
    try:
        assert live.start(watch=False, on_progress=events.append) is False  # no watcher asked for
        state = live.state
        assert state.phase == "ready" and state.files_done == state.files_total > 0
        assert [e.phase for e in events][-1] == "done"
        assert state.summary["skipped_examples"]["binary"] == ["blob.bin"]
        assert "skipped_examples" not in state.to_json()["summary"]
        assert state.to_json()["summary"]["skipped_by_reason"]["binary"] == 1
    finally:
        live.close()


def test_a_shutdown_during_the_pass_leaves_it_interrupted_and_the_lock_free(sample_repo, fast_settings):
    stop = threading.Event()
    stop.set()
    live = LiveIndex(sample_repo, fast_settings)
    assert live.start(watch=True, stop=stop) is False
    assert live.state.phase == "interrupted" and live.watcher is None
    again = LiveIndex(sample_repo, fast_settings)  # the writer lock was released
    try:
        assert again.start(watch=False) is False and again.state.phase == "ready"
    finally:
        again.close()
