"""The writer lease of a shared index: a log in the store, replayed in commit order."""

from __future__ import annotations

import os
import time

import pytest

from ragpilot.indexer.errors import IndexBusyError, IndexLostError
from ragpilot.indexer.lease import StoreLease, replay
from ragpilot.indexer.lock import WriterLock
from ragpilot.indexer.store_uri import StoreBinding, bind


def row(holder, claimed, expires, breaks="", pid=1):
    return {"holder": holder, "host": "h", "pid": pid, "claimed_at": claimed, "expires_at": expires, "breaks": breaks}


def test_the_first_claim_wins_while_it_holds():
    rows = [row("a", 0, 60), row("b", 1, 61)]
    assert replay(rows, now=10).holder == "a"


def test_a_claim_after_the_lease_ran_out_wins():
    rows = [row("a", 0, 60), row("b", 70, 130)]
    assert replay(rows, now=80).holder == "b"
    assert replay(rows, now=200) is None


def test_renewals_extend_and_a_release_frees_at_once():
    rows = [row("a", 0, 60), row("a", 20, 80), row("b", 70, 130)]
    assert replay(rows, now=75).holder == "a"  # b claimed while a's renewed lease held
    released = [row("a", 0, 60), row("a", 5, 5), row("b", 6, 66)]
    assert replay(released, now=10).holder == "b"


def test_breaking_a_dead_holders_lease():
    rows = [row("a", 0, 60), row("b", 5, 65, breaks="a"), row("c", 6, 66, breaks="zzz")]
    assert replay(rows, now=10).holder == "b"


def test_two_writers_on_s3(s3_uri):
    store = StoreBinding(s3_uri)
    first = StoreLease(store, ttl_s=30)
    first.acquire()
    try:
        with pytest.raises(IndexBusyError) as busy:
            StoreLease(store, ttl_s=30).acquire()
        assert f"pid {os.getpid()}" in str(busy.value)
    finally:
        first.release()
    second = StoreLease(store, ttl_s=30)
    second.acquire()
    second.release()


def test_a_writer_that_missed_its_renewals_stops_writing(s3_uri, tmp_path):
    """A paused writer whose lease ran out and was taken finds out before its next commit."""
    local = bind(tmp_path / "home", s3_uri)
    lock = WriterLock(local)
    os.environ["RAGPILOT_LEASE_SECONDS"] = "1.5"
    try:
        lock.acquire()
    finally:
        del os.environ["RAGPILOT_LEASE_SECONDS"]
    lease = lock._lease
    lease._stop.set()  # "paused": no renewals from here on
    lease._renewer.join()
    time.sleep(2.0)
    other = StoreLease(StoreBinding(s3_uri), ttl_s=30)
    other.acquire()  # the lease ran out: another writer takes it
    try:
        assert lease.renew() is False  # the paused writer wakes up
        with pytest.raises(IndexLostError, match="taken over"):
            lock.check()
    finally:
        lock.release()
        other.release()
