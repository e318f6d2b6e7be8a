"""The refresher keeps ``--refresh-seconds`` as a bound on staleness: looks come closer together by what
opening a version has recently cost (serve/replica.py)."""

from __future__ import annotations

import threading
import time

from ragpilot.serve.replica import Refresher


class SlowView:
    """A view whose every look finds a new version and takes ``cost`` seconds to open it."""

    def __init__(self, cost: float):
        self.cost = cost
        self.version = 0
        self.looks: list[float] = []
        self.seen = threading.Event()

    def refresh(self) -> int:
        self.looks.append(time.monotonic())
        time.sleep(self.cost)
        self.version += 1
        if len(self.looks) >= 4:
            self.seen.set()
        return self.version


class IdleView(SlowView):
    def refresh(self) -> int:
        self.looks.append(time.monotonic())
        if len(self.looks) >= 3:
            self.seen.set()
        return self.version


def test_looks_come_sooner_by_the_cost_of_opening_so_a_commit_waits_at_most_the_interval():
    view = SlowView(cost=0.4)
    refresher = Refresher([view], interval_s=1.0)
    refresher.start()
    try:
        assert view.seen.wait(10)
    finally:
        refresher.stop()
    assert refresher.look_interval() == 1.0 - max(refresher._passes)
    assert Refresher.MIN_LOOK_S <= refresher.look_interval() <= 0.6  # 1 s minus at least the 0.4 s opening
    # Each look starts one look-interval after the previous one started: look gap + opening <= interval.
    gaps = [b - a for a, b in zip(view.looks[1:], view.looks[2:], strict=False)]
    assert all(gap < 1.0 for gap in gaps), gaps


def test_without_new_versions_the_looks_keep_the_configured_interval_and_a_floor_applies():
    view = IdleView(cost=0.0)
    refresher = Refresher([view], interval_s=0.3)
    refresher.start()
    try:
        assert view.seen.wait(10)
    finally:
        refresher.stop()
    assert refresher.look_interval() == 0.3
    assert Refresher([view], interval_s=0.1).look_interval() == Refresher.MIN_LOOK_S
