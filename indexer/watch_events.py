"""From raw file-system events to the repository paths worth re-indexing.

Filtering happens here, on the observer's thread and before anything is queued, so that churn in
ignored places (``.git/``, ``node_modules/``, build output, the index itself) costs a cached rule lookup
and nothing more. Also builds the observer: native events (inotify, FSEvents, ...) when the
platform allows, watchdog's polling observer otherwise.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.polling import PollingObserverVFS

from .errors import RagpilotError
from .filters import VENV_MARKER
from .walk import GIT_EXCLUDE, IgnoreRules

log = logging.getLogger(__name__)

# Directory "modified" events only say that a child changed; the child's own event carries the news.
EVENT_TYPES = [FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
               DirCreatedEvent, DirDeletedEvent, DirMovedEvent]
LIMIT_ERRNOS = {errno.ENOSPC, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
_BACKENDS = {"InotifyObserver": "inotify", "FSEventsObserver": "fsevents", "KqueueObserver": "kqueue",
             "WindowsApiObserver": "windows", "PollingObserver": "polling", "PollingObserverVFS": "polling"}


class PathRouter:
    """Decides, per event path, whether to queue it, treat it as an ignore-rules change, or drop it.

    Uses the indexer's own :class:`IgnoreRules` (path rules only, cached per directory), so the
    watcher and the walk always agree on what is in scope. Thread-safe against :meth:`reload`.
    """

    def __init__(self, root: Path, rules: IgnoreRules, *, index_dir: Path | None = None):
        self.root = str(root)
        self.rules = rules
        self._prefix = self.root.rstrip(os.sep) + os.sep
        self._index_rel = self._rel(str(index_dir)) if index_dir is not None else None
        self._lock = threading.Lock()

    def _rel(self, abs_path: str) -> str | None:
        if not abs_path.startswith(self._prefix):
            return None
        rel = abs_path[len(self._prefix):]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel

    def reload(self) -> None:
        """The ignore files changed: make the rules forget what they derived from them."""
        with self._lock:
            self.rules.reload()

    def _in_index(self, rel: str) -> bool:
        idx = self._index_rel
        return bool(idx) and (rel == idx or rel.startswith(idx + "/"))

    def classify(self, abs_path: str, is_dir: bool) -> tuple[str | None, bool]:
        """``(rel, scope_changed)``: the repository path to queue (None drops it), and whether the event
        touched something that changes what is in scope: an ignore file (.gitignore, .ragpilotignore,
        .git/info/exclude) or a virtualenv marker (a directory turning into a virtualenv)."""
        rel = self._rel(abs_path)
        if not rel or self._in_index(rel):
            return None, False
        if rel == GIT_EXCLUDE:
            return None, True
        parent, _, name = rel.rpartition("/")
        with self._lock:
            if parent and self.rules.skip_reason(parent, True) is not None:
                return None, False
            if not is_dir and (name == VENV_MARKER or self.rules.is_ignore_file(rel)):
                return None, True
            if self.rules.skip_reason(rel, is_dir) is not None:
                return None, False
        return rel, False

    def dir_in_scope(self, abs_path: str) -> bool:
        """For the polling snapshot: False prunes an ignored directory from every poll."""
        rel = self._rel(abs_path)
        if not rel:
            return True
        if self._in_index(rel):
            return False
        with self._lock:
            return self.rules.skip_reason(rel, True) is None


class ChangeHandler(FileSystemEventHandler):
    """Feeds classified paths to ``sink(paths, rules_changed)``; never raises into the observer."""

    def __init__(self, router: PathRouter, sink: Callable[[Iterable[str], bool], None]):
        self.router = router
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "deleted", "modified", "moved"):
            return
        if event.is_directory and event.event_type == "modified":
            return
        try:
            paths: list[str] = []
            rules_changed = False
            for raw in (event.src_path, getattr(event, "dest_path", "") or ""):
                if not raw:
                    continue
                abs_path = os.fsdecode(raw)
                rel, changed = self.router.classify(abs_path, event.is_directory)
                rules_changed = rules_changed or changed
                if rel:
                    paths.append(rel)
            if paths or rules_changed:
                self.sink(paths, rules_changed)
        except Exception:  # a bad event must not kill the observer thread
            log.exception("watcher: cannot handle %r", event)


def _filtered_scandir(router: PathRouter) -> Callable[[str | None], list[os.DirEntry]]:
    """``os.scandir`` that hides ignored directories, so polling never walks node_modules or .git."""

    def listdir(path: str | None) -> list[os.DirEntry]:
        with os.scandir(path) as it:
            entries = list(it)
        keep = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if not is_dir or router.dir_in_scope(entry.path):
                keep.append(entry)
        return keep

    return listdir


def coalesce(root: Path, paths: Iterable[str]) -> list[str]:
    """Drop paths inside another pending path that is a directory (or gone): its walk covers them.

    A pending path that is now a *file* covers nothing (a directory replaced by a file must still
    have its old children removed one by one).
    """
    ordered = sorted(set(paths))
    covering: set[str] = set()
    out: list[str] = []
    for rel in ordered:
        parts = rel.split("/")
        if any("/".join(parts[:i]) in covering for i in range(1, len(parts))):
            continue
        out.append(rel)
        if not (root / rel).is_file():
            covering.add(rel)
    return out


def backend_name(observer) -> str:
    name = type(observer).__name__
    return _BACKENDS.get(name, name.removesuffix("Observer").lower() or name)


def start_observer(root: Path, handler: ChangeHandler, *, polling: bool | None, poll_interval_s: float):
    """Start watching ``root`` recursively; returns ``(observer, backend)``.

    ``polling=None`` tries native events and falls back to polling when the OS refuses (inotify watch
    or instance limit); ``True`` forces polling; ``False`` insists on native events.
    """
    if not polling:
        from watchdog.observers import Observer  # resolved now: the platform's native observer

        observer = Observer()
        try:
            observer.schedule(handler, str(root), recursive=True, event_filter=EVENT_TYPES)
            observer.start()
            return observer, backend_name(observer)
        except OSError as err:
            _stop_quietly(observer)
            if polling is False:
                raise RagpilotError(f"cannot watch {root} with native file events: {err}") from err
            hint = (" (raise fs.inotify.max_user_watches / max_user_instances with sysctl to avoid this)"
                    if err.errno in LIMIT_ERRNOS else "")
            log.warning("native file events unavailable for %s: %s%s; falling back to polling every %.1fs",
                        root, err, hint, poll_interval_s)
    # lstat: a symlinked directory is never followed (the walk does not follow it either, and a link
    # loop would recurse forever).
    listdir = _filtered_scandir(handler.router)
    observer = PollingObserverVFS(os.lstat, listdir, polling_interval=poll_interval_s)
    observer.schedule(handler, str(root), recursive=True, event_filter=EVENT_TYPES)
    git_info = root / ".git" / "info"
    if git_info.is_dir():  # .git is pruned from the snapshot; its exclude file still matters
        observer.schedule(handler, str(git_info), recursive=False, event_filter=EVENT_TYPES)
    observer.start()
    return observer, "polling"


def _stop_quietly(observer) -> None:
    try:
        observer.unschedule_all()
        if observer.is_alive():
            observer.stop()
            observer.join(timeout=5)
    except Exception:  # noqa: BLE001 - best effort cleanup of a half-started observer
        log.debug("cleanup of a failed observer raised", exc_info=True)
