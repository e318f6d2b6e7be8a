"""``python -m eval`` / ``ragpilot eval``: build tasks, run every mode side by side, print, write JSON."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console

from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.settings import DEFAULT_EMBEDDER
from ragpilot.serve.cli import run

from . import multireport, questions, repolevel, symbolcheck
from .engine import BASE_MODES, DEFAULT_MODES, FILES_MODE, Engine, parse_mode
from .multilang import eval_pinned
from .pinned import mirrors_root, select
from .report import diagnostics_lines, results_table, subset_tables, verdict_line, write_json
from .runner import EvalConfig, eval_docstrings, eval_git, eval_task_file

out = Console(highlight=False, soft_wrap=False, width=200)
err = Console(stderr=True, highlight=False)

DEFAULT_OUT = "eval/results/{corpus}.json"
MULTI_OUT = "eval/results/multilang"
REPO_OUT = "eval/results/repolevel"  # --symbol-check writes to its symbols/ folder


@click.command("eval", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--corpus", "corpora", multiple=True,
              help="Package name (click, httpx, rich...), 'stdlib', 'stdlib:json,http' or a folder; "
                   "repeat or comma-separate. Default: click.")
@click.option("--repo", type=click.Path(path_type=Path, file_okay=False),
              help="A folder (or git work tree with --git-tasks) to evaluate on.")
@click.option("--tasks", "tasks_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Hand-written JSONL tasks; gold paths relative to --repo or to the --corpus copy.")
@click.option("--git-tasks", is_flag=True,
              help="Mine 'which files would I change' tasks from --repo's history.")
@click.option("--max-tasks", type=click.IntRange(1), default=150, show_default=True,
              help="Tasks per corpus (docstring tasks are sampled deterministically with --seed).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--strip-all", is_flag=True,
              help="Docstring tasks: remove every function docstring from the corpus (CodeSearchNet style), "
                   "not only those of the queried functions.")
@click.option("--modes", default=",".join(DEFAULT_MODES), show_default=True,
              help="Comma-separated modes: lexical, dense, hybrid, each optionally +rerank.")
@click.option("--rerank-queries", type=click.IntRange(0), default=50, show_default=True,
              help="Run +rerank modes on the first N tasks only (the cross-encoder is slow on CPU).")
@click.option("-k", "k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--embedder", default=DEFAULT_EMBEDDER, show_default=True,
              help="Embedder name ('hashing' is a fast fake for harness tests).")
@click.option("--work-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where corpus copies and indexes live (default: $RAGPILOT_HOME/eval); reused across runs.")
@click.option("--out", "out_path", default=DEFAULT_OUT, show_default=True,
              help="JSON result path; {corpus} is replaced by the corpus label. '-' writes nothing.")
@click.option("--max-commits", type=click.IntRange(1), default=2000, show_default=True,
              help="With --git-tasks: how many recent commits to consider.")
@click.option("--corpora", "pinned", default=None,
              help="Multi-language eval on pinned corpora (eval/corpora_pinned.toml): names, languages "
                   "(go, ts, js, rust, java, c, cpp, python) or 'all'; comma-separated. Mirrors must exist.")
@click.option("--large", is_flag=True, help="With --corpora all or a language: include the large corpora.")
@click.option("--with-tests", is_flag=True,
              help="With --corpora: index each corpus's test files too (targets stay non-test code), to "
                   "measure tests outranking the code they test. Separate work folders.")
@click.option("--doc-tasks", type=click.IntRange(0), default=40, show_default=True,
              help="With --corpora: doc -> function tasks per corpus.")
@click.option("--git-per-corpus", type=click.IntRange(0), default=20, show_default=True,
              help="With --corpora: commit tasks per corpus (newest before the pin; 0 = none).")
@click.option("--mirrors", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of bare mirrors <owner>+<name>/repo (default: $RAGPILOT_EVAL_MIRRORS or /work/.mirror).")
@click.option("--repo-questions", is_flag=True,
              help="Repository-level questions (eval/tasks/repo): gold-file coverage of the chat context, per "
                   "variant, on --corpora (default chi,express,httpx,zod).")
@click.option("--symbol-check", is_flag=True,
              help="find_symbol / find_references against hand-checked gold (eval/tasks/symbols) on --corpora.")
@click.option("--reuse-index", is_flag=True,
              help="With --corpora: search the doc-task indexes a previous run left, without syncing or "
                   "indexing (ranking studies; add --git-per-corpus 0, git tasks always re-index).")
@click.option("--json", "as_json", is_flag=True, help="Print the per-mode summary as JSON instead of tables.")
@click.option("-v", "--verbose", count=True, help="More log output.")
def eval_cmd(corpora, repo, tasks_file, git_tasks, max_tasks, seed, strip_all, modes, rerank_queries, k,
             embedder,
             work_dir, out_path, max_commits, pinned, large, with_tests, doc_tasks, git_per_corpus, mirrors,
             repo_questions,
             symbol_check, reuse_index, as_json, verbose) -> None:
    """Measure retrieval quality: lexical vs dense vs hybrid (vs reranked) on real code."""
    if verbose:
        logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2),
                            format="%(levelname)s %(name)s: %(message)s")
    mode_list = [m.strip() for m in modes.split(",") if m.strip()]
    for mode in mode_list:
        try:
            parse_mode(mode)
        except ValueError as e:
            raise UsageError(str(e)) from None
    names = [c.strip() for item in corpora for c in item.split(",") if c.strip()]
    cfg = EvalConfig(modes=mode_list, k=k, max_tasks=max_tasks, seed=seed, rerank_queries=rerank_queries,
                     strip_all=strip_all, reuse_index=reuse_index,
                     work_dir=work_dir, notify=lambda msg: err.print(f"[dim]{msg}[/]"),
                     on_progress=_progress_printer())
    engine = Engine(embedder)

    if repo_questions or symbol_check:
        chosen = select(pinned or repolevel.DEFAULT_CORPORA, large=large)
        out_dir = None if out_path == "-" else Path(REPO_OUT if out_path == DEFAULT_OUT else out_path)
        if repo_questions:
            results = repolevel.run_repolevel(chosen, engine, cfg, mirrors=mirrors_root(mirrors), out_dir=out_dir)
            out.print(repolevel.markdown(repolevel.summary_json(results)))
        if symbol_check:
            results = symbolcheck.run_symbolcheck(chosen, engine, cfg, mirrors=mirrors_root(mirrors),
                                                  out_dir=out_dir and out_dir / "symbols")
            out.print(symbolcheck.markdown(results))
        return

    if pinned is not None:
        if click.get_current_context().get_parameter_source("modes") == ParameterSource.DEFAULT:
            # the cross-encoder is too slow for every corpus; file-level search answers the git tasks
            cfg.modes = [*BASE_MODES, FILES_MODE]
        out_dir = Path(MULTI_OUT if out_path == DEFAULT_OUT else out_path)
        chosen = [replace(c, with_tests=True) if with_tests else c for c in select(pinned, large=large)]
        _run_pinned(chosen, engine, cfg, mirrors_root(mirrors),
                    doc_tasks=doc_tasks, git_tasks=git_per_corpus, out_dir=None if out_path == "-" else out_dir)
        return

    if git_tasks:
        if repo is None:
            raise UsageError("--git-tasks needs --repo PATH (a git work tree)")
        jobs = [lambda: eval_git(repo, engine, cfg, max_commits=max_commits)]
    elif tasks_file is not None:
        if (repo is None) == (not names):
            raise UsageError("--tasks needs exactly one of --repo PATH or --corpus NAME")
        if len(names) > 1:
            raise UsageError("--tasks takes a single --corpus")
        corpus = names[0] if names else None
        jobs = [lambda: eval_task_file(tasks_file, engine, cfg, repo=repo, corpus=corpus)]
    else:
        targets = names + ([str(repo)] if repo is not None else []) or ["click"]
        if len(targets) > 1 and out_path not in ("-",) and "{corpus}" not in out_path:
            raise UsageError("several corpora need an --out containing {corpus}")
        jobs = [lambda name=name: eval_docstrings(name, engine, cfg) for name in targets]

    summaries = []
    for job in jobs:
        t0 = time.perf_counter()
        result = job()
        if out_path != "-":
            path = Path(out_path.replace("{corpus}", result["corpus"]))
            write_json(result, path)
            err.print(f"[dim]wrote {path} ({time.perf_counter() - t0:.0f}s)[/]")
        if as_json:
            summaries.append({k: v for k, v in result.items() if k != "tasks"})
        else:
            _print_result(result)
    if as_json:
        click.echo(json.dumps(summaries if len(summaries) != 1 else summaries[0], indent=1))


def _run_pinned(corpora, engine: Engine, cfg: EvalConfig, mirrors: Path, *, doc_tasks: int, git_tasks: int,
                out_dir: Path | None) -> None:
    """Every pinned corpus in turn (missing mirrors are skipped with the fetch to run), then the table."""
    results = []
    for corpus in corpora:
        t0 = time.perf_counter()
        result = eval_pinned(corpus, engine, cfg, mirrors=mirrors, doc_tasks=doc_tasks, git_tasks=git_tasks)
        if result is None:
            continue
        asked = questions.eval_questions(corpus, engine, cfg, mirrors=mirrors)  # eval/tasks/<corpus>.jsonl
        if asked is not None:
            result["questions"] = asked
        results.append(result)
        if out_dir is not None:
            write_json(result, out_dir / f"{corpus.name}.json")
            err.print(f"[dim]wrote {out_dir / (corpus.name + '.json')} ({time.perf_counter() - t0:.0f}s)[/]")
        out.print(multireport.rich_table([result], f"{corpus.name} ({corpus.language})"))
        if (table := questions.rich_table([result], f"{corpus.name}: hand-written questions")) is not None:
            out.print(table)
    if not results:
        raise UsageError("no pinned corpus could be read: fetch the mirrors named above")
    title = f"multi-language eval, embedder {engine.embedder_name}, seed {cfg.seed}"
    out.print(multireport.rich_table(results, title))
    if (table := questions.rich_table(results, f"hand-written questions, {title}")) is not None:
        out.print(table)
    if out_dir is not None:
        # Never a corpus's own name: <corpus>.json holds that corpus's full result, written above.
        names = "summary-" + "-".join(r["corpus"] for r in results) if len(results) < 4 else "summary"
        (out_dir / f"{names}.md").write_text(f"# {title}\n\n" + multireport.markdown(results)
                                           + ("\n" + q if (q := questions.markdown(results)) else ""),
                                           encoding="utf-8")
        write_json([{k: v for k, v in r.items()} | {part: _strip_tasks(r.get(part)) for part in ("docstring", "git", "questions")}
                    for r in results], out_dir / f"{names}.json")


def _strip_tasks(part: dict | None) -> dict | None:
    return None if part is None else {k: v for k, v in part.items() if k != "tasks"}


def _print_result(result: dict) -> None:
    out.print(results_table(result))
    for table in subset_tables(result):
        out.print(table)
    line = verdict_line(result)
    if line:
        out.print(line)
    for line in diagnostics_lines(result):
        out.print(f"[dim]{line}[/]")
    if result.get("index"):
        idx = result["index"]
        timing = result["timing"]
        out.print(f"[dim]index: {idx['chunks_total']} chunks; index {timing.get('index_seconds', 0):.1f}s, "
                  f"search {timing.get('search_seconds', 0):.1f}s[/]")
    out.print()


def _progress_printer():
    last = 0.0

    def show(ev) -> None:
        nonlocal last
        now = time.monotonic()
        if ev.phase == "index" and now - last < 5 and ev.files_done != ev.files_total:
            return
        last = now
        err.print(f"[dim]  {ev.phase}: {ev.files_done}/{ev.files_total} files, "
                  f"{ev.chunks_embedded} chunks embedded[/]")

    return show


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m eval``: user errors become one line, no traceback."""
    return run(eval_cmd, argv, "python -m eval")


if __name__ == "__main__":
    sys.exit(main())
