"""What the CLI prints and how: the two consoles, literal text from user files, progress rendering.

The CLI is the only place that prints; every command module prints through these helpers.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from ..terminal_text import terminal_safe

if TYPE_CHECKING:  # the pipeline imports lancedb: not at start-up
    from ...indexer.pipeline import Indexer, IndexSummary, Progress

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def esc(value: object) -> str:
    """Text from the user's files or paths, shown literally: "[red]x.py" is a legal file name, and a
    name holding an ESC sequence is shown as ``\\x1b[2J``, not obeyed (see terminal_text.py)."""
    return escape(terminal_safe(str(value)))


def say(text: str) -> None:
    """One line on stderr, never wrapped (servers log to files and narrow terminals alike)."""
    err.print(text, soft_wrap=True)


class TerminalSafeFormatter(logging.Formatter):
    """Log lines name files ("skipping x.py: ..."): their control characters are shown, not obeyed."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


def run_with_progress(indexer: Indexer, *, quiet: bool) -> IndexSummary:
    """Run ``indexer`` to the end: a progress bar on a terminal, a line every 2 s otherwise. The files are
    written first (then search works, lexically), then the chunks embedded, with their own bar and ETA."""
    if quiet:
        return indexer.run_to_end()
    embedding = EmbedClock()
    if not err.is_terminal:
        last_line = 0.0

        def plain(ev: Progress) -> None:
            nonlocal last_line
            now = time.monotonic()
            if ev.phase == "embed":
                if embedding.start(ev):
                    err.print(SEARCHABLE.format(n=ev.embed_total))
                if now - last_line >= 2 or ev.embed_done == ev.embed_total:
                    last_line = now
                    err.print(f"embed: {ev.embed_done}/{ev.embed_total} chunks embedded, {embedding.eta(ev)}")
            elif ev.phase != "index" or now - last_line >= 2 or ev.files_done == ev.files_total:
                last_line = now
                err.print(f"{ev.phase}: {ev.files_done}/{ev.files_total} files, {ev.chunks_embedded} chunks embedded")

        return indexer.run_to_end(plain)
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    started = time.monotonic()
    columns = [
        TextColumn("[bold]{task.fields[phase]}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
        TextColumn("{task.fields[chunks]} chunks embedded ({task.fields[rate]:.1f}/s)"),
        TimeElapsedColumn(), TimeRemainingColumn(),
    ]
    with Bar(*columns, console=err, transient=True) as bar:
        task = bar.add_task("index", total=None, phase="scan", chunks=0, rate=0.0, unit="files")

        def fancy(ev: Progress) -> None:
            if ev.phase == "embed" or embedding.started:  # the bar now counts chunks (rich's ETA follows)
                if embedding.start(ev):
                    bar.console.print(SEARCHABLE.format(n=ev.embed_total))
                    bar.reset(task, total=ev.embed_total, completed=0, phase=ev.phase, unit="chunks",
                              chunks=ev.chunks_embedded, rate=0.0)  # reset replaces every field
                bar.update(task, completed=ev.embed_done, phase=ev.phase, chunks=ev.chunks_embedded,
                           rate=embedding.rate(ev))
                return
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, total=ev.files_total or None, completed=ev.files_done, phase=ev.phase,
                       chunks=ev.chunks_embedded, rate=ev.chunks_embedded / elapsed)

        return indexer.run_to_end(fancy)


SEARCHABLE = "[green]searchable now[/] (lexical); embedding {n} chunks for hybrid search ..."


class EmbedClock:
    """When the embedding phase started, and its rate and time left so far."""

    def __init__(self) -> None:
        self.started: float | None = None

    def start(self, ev: Progress) -> bool:
        """True on the phase's first event."""
        if self.started is not None:
            return False
        self.started = time.monotonic()
        return True

    def rate(self, ev: Progress) -> float:
        return ev.embed_done / max(time.monotonic() - (self.started or time.monotonic()), 1e-6)

    def eta(self, ev: Progress) -> str:
        rate = self.rate(ev)
        if not ev.embed_done or rate <= 0:
            return "ETA unknown"
        left = (ev.embed_total - ev.embed_done) / rate
        return f"{rate:.1f}/s, ETA {int(left // 60)}:{int(left % 60):02d}"


def print_summary(s: IndexSummary) -> None:
    """The end of ``ragpilot index``: counts, skip reasons, redactions, warnings, where the index is."""
    out.print(
        f"[green]done[/] in {s.seconds:.1f}s: {s.files_indexed} files indexed, {s.files_unchanged} unchanged, "
        f"{s.files_deleted} deleted, {s.files_skipped} skipped; "
        f"{s.chunks_embedded} chunks embedded ({s.chunks_cached} from cache), {s.chunks_total} in the index"
    )
    if s.chunks_pending:
        out.print(f"[yellow]{s.chunks_pending} of {s.chunks_total} chunks are not embedded yet[/] (search covers "
                  "them lexically); run `ragpilot index` again to embed them")
    if s.skipped_by_reason:
        reasons = ", ".join(f"{esc(reason)} {n}" for reason, n in s.skipped_by_reason.items())
        out.print(f"skipped by reason: {reasons}")
    if s.secrets_redacted:
        out.print(f"secrets redacted: {s.secrets_redacted} values in {s.files_redacted} indexed files")
    for warning in s.warnings:
        err.print(f"[yellow]warning:[/] {esc(warning)}")
    out.print(f"index: {esc(s.index_dir)}", style="dim")


class ProgressLines:
    """Start-up indexing progress as plain stderr lines (a server's terminal is a log, not a bar)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, float]] = {}

    def __call__(self, repo, ev: Progress) -> None:
        now = time.monotonic()
        phase, at = self._last.get(repo.name, ("", 0.0))
        if ev.phase == "done" and ev.summary is not None:
            s = ev.summary
            say(f"[green]{esc(repo.name)}[/]: indexed in {s.seconds:.1f}s: {s.files_indexed} files indexed, "
                f"{s.files_unchanged} unchanged, {s.files_deleted} deleted; {s.chunks_total} chunks")
        elif ev.phase != phase or now - at >= 2.0:
            say(f"{esc(repo.name)}: {ev.phase} {ev.files_done}/{ev.files_total} files, "
                f"{ev.chunks_embedded} chunks embedded")
        else:
            return
        self._last[repo.name] = (ev.phase, now)
