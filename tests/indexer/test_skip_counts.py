"""SkipCounts: exact counts per reason, and the first MAX_SKIPPED_PATHS paths of each to show."""

from __future__ import annotations

from ragpilot.indexer.types import MAX_SKIPPED_PATHS, SkipCounts


def test_counts_stay_exact_while_the_kept_paths_stop_at_the_bound():
    skipped = SkipCounts()
    for i in range(MAX_SKIPPED_PATHS + 5):
        skipped.add("binary", f"b{i}.bin")
    skipped.add("secret", "key.pem")
    assert skipped.by_reason == {"binary": MAX_SKIPPED_PATHS + 5, "secret": 1}
    assert skipped.examples["binary"] == [f"b{i}.bin" for i in range(MAX_SKIPPED_PATHS)]
    assert skipped.examples["secret"] == ["key.pem"]


def test_merging_adds_counts_and_paths_up_to_the_bound():
    into, other = SkipCounts(), SkipCounts()
    for i in range(MAX_SKIPPED_PATHS - 2):
        into.add("ignored", f"a{i}")
    for i in range(5):
        other.add("ignored", f"b{i}")
    other.add("symlink", "link")
    into.merge(other)
    assert into.by_reason == {"ignored": MAX_SKIPPED_PATHS + 3, "symlink": 1}
    assert into.examples["ignored"][-2:] == ["b0", "b1"] and len(into.examples["ignored"]) == MAX_SKIPPED_PATHS
    assert into.examples["symlink"] == ["link"]
