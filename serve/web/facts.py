"""What the health view shows beyond ``/status``: the index's size on disk, its files per language,
and how many catalogued chunks have a vector in the table (embedding coverage); during a start-up
pass, its progress with a rate and an ETA.

Read-only, like ``serve/status.py``: the catalog is opened for reading and the index folder walked.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from ...indexer.catalog import catalog_present, open_catalog
from ...indexer.languages import language_for


def folder_bytes(folder: Path) -> int:
    """The bytes of every regular file under ``folder`` (symlinks are not followed); 0 when absent."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:  # removed while we walked (compaction)
                continue
            total += st.st_size
    return total


def catalog_facts(index_dir: Path) -> dict:
    """Files and chunks per language, and the chunk total the catalog recorded."""
    if not catalog_present(index_dir):
        return {"languages": [], "catalog_chunks": 0}
    catalog = open_catalog(index_dir)
    try:
        records = catalog.all()
    finally:
        catalog.close()
    files: Counter[str] = Counter()
    chunks: Counter[str] = Counter()
    for rel, rec in records.items():
        lang = language_for(rel) or "other"
        files[lang] += 1
        chunks[lang] += rec.chunks
    languages = [{"language": lang, "files": n, "chunks": chunks[lang]} for lang, n in files.most_common()]
    return {"languages": languages, "catalog_chunks": sum(chunks.values())}


def index_facts(index_dir: Path, chunks_in_table: int | None) -> dict:
    """Size on disk, languages, and coverage: chunks in the vector table / chunks the catalog recorded."""
    facts = catalog_facts(index_dir)
    expected = facts["catalog_chunks"]
    coverage = None
    if chunks_in_table is not None and expected:
        coverage = min(1.0, chunks_in_table / expected)
    elif chunks_in_table is not None:
        coverage = 1.0 if chunks_in_table == 0 else None
    return {**facts, "index_bytes": folder_bytes(index_dir), "embedding_coverage": coverage}


# ----- live progress of a start-up pass -----------------------------------------------------------------
MIN_FILES_FOR_ETA = 3  # files done since the first sample before a rate means anything
MIN_SECONDS_FOR_ETA = 1.0


def indexing_eta(files_done: int, files_total: int, *, since_done: int, since_time: float,
                 now: float) -> dict:
    """The rate (files/s) since a first sample and the seconds left at that rate; both None while
    there is too little to go on ("estimating…").

    The rate is measured from a sample taken during the pass, not from its start: a pass counts the
    files it found unchanged as done at once, so files/elapsed would promise far too early an end.
    """
    done_since = files_done - since_done
    elapsed = now - since_time
    remaining = max(0, files_total - files_done)
    if files_total and remaining == 0:
        return {"rate": None, "eta_seconds": 0.0}
    if done_since < MIN_FILES_FOR_ETA or elapsed < MIN_SECONDS_FOR_ETA:
        return {"rate": None, "eta_seconds": None}
    rate = done_since / elapsed
    return {"rate": rate, "eta_seconds": remaining / rate}


class ProgressSamples:
    """The first (files done, time) seen of each running pass: the baseline of its rate.

    Keyed by repository and the pass's start time; a sample is dropped once its pass is through."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, float], tuple[int, float]] = {}

    def progress(self, repo: str, indexing: dict, now: float) -> dict | None:
        """The progress bar of a repository's pass: files done/total, chunks embedded, rate and ETA;
        None outside the index and optimize phases (before them the total is not known yet)."""
        key = (repo, indexing.get("started_at") or 0.0)
        total = int(indexing.get("files_total") or 0)
        if indexing.get("phase") not in ("index", "optimize") or not total:
            self._first.pop(key, None)
            return None
        done = int(indexing.get("files_done") or 0)
        since_done, since_time = self._first.setdefault(key, (done, now))
        return {"files_done": done, "files_total": total, "share": min(1.0, done / total),
                "chunks_embedded": int(indexing.get("chunks_embedded") or 0),
                **indexing_eta(done, total, since_done=since_done, since_time=since_time, now=now)}
