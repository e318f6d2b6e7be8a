"""Repository-level questions: does the context the chat endpoint assembles cover the files an answer needs?

A repository-level question ("how is a request routed from Mux to the handler?", "how is the project
organised?") is answered from several files at once. Each hand-written question
(``eval/tasks/repo/<corpus>.jsonl``) names its **gold files**: the 2-5 files a good answer must draw on,
found by reading the code at the pinned commit. The score of one question is its **gold-file
coverage**: the share of its gold files among the paths the assembled context cites.

The context is built by the chat endpoint's own function
(:func:`ragpilot.serve.routes.openai_chat.with_context`) over a served repository opened the way
``ragpilot serve`` opens it, so what is scored is what the ``ragpilot`` model would be sent. Variants
differ only in serving settings (:data:`VARIANTS`); a variant whose settings this build of ragpilot
does not have is reported as unavailable, not run. The plain reference is ``bm25-window40``
(:mod:`eval.baselines`): its ranked 40-line windows packed, best first, into the same token budget.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ragpilot.indexer.catalog import CACHE_FILE
from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.pipeline import IndexSummary
from ragpilot.indexer.types import TokenCounter, approx_tokens
from ragpilot.retrieval.context import ContextPiece
from ragpilot.retrieval.render import render_piece
from ragpilot.serve.rag import Retriever
from ragpilot.serve.prompt import MAP_SYMBOL, is_repo_level
from ragpilot.serve.repos import RepoSet, ServedRepo
from ragpilot.serve.routes.openai_chat import with_context
from ragpilot.serve.schemas import RagOptions
from ragpilot.serve.settings import ServeSettings

from .baselines import BM25Index, read_tree, window_index
from .corpora import sync_tree
from .doctasks import SPLITS, split_of
from .engine import Engine
from .git_tasks import git
from .metrics import mean
from .pinned import PinnedCorpus, corpus_tree, mirror_status
from .runner import EvalConfig, index_tree, work_dir_for

log = logging.getLogger(__name__)

QUESTIONS_DIR = Path(__file__).with_name("tasks") / "repo"
DEFAULT_CORPORA = "chi,express,httpx,zod"
BASELINE = "bm25-window40"
MAX_TOKENS = 512  # the chat default completion length (ServeSettings.max_tokens); only matters with a window


@dataclass(frozen=True)
class RepoQuestion:
    """One question about a repository as a whole, and the files a good answer must draw on."""

    id: str
    question: str
    gold_files: tuple[str, ...]
    note: dict = field(default_factory=dict)  # gold file -> why an answer needs it


@dataclass(frozen=True)
class Variant:
    """A way to assemble the chat context: serving settings set on top of the defaults.

    Keys are ``ServeSettings`` field names; ``"retrieval.x"`` sets a field of its nested retrieval settings."""

    name: str
    settings: dict = field(default_factory=dict)

    def missing(self, base: ServeSettings) -> list[str]:
        """The settings this build of ragpilot does not have (the variant cannot run without them)."""
        out = []
        for key in self.settings:
            model: object = base
            for part in key.split("."):
                if part not in type(model).model_fields:
                    out.append(key)
                    break
                model = getattr(model, part)
        return out

    def apply(self, base: ServeSettings) -> ServeSettings:
        nested: dict[str, dict] = {}
        top: dict = {}
        for key, value in self.settings.items():
            head, _, rest = key.partition(".")
            if rest:
                nested.setdefault(head, {})[rest] = value
            else:
                top[key] = value
        for head, values in nested.items():
            top[head] = getattr(base, head).model_copy(update=values)
        return base.model_copy(update=top)


# The chat's repo-map slice, breadth-first excerpts and graph expansion are serving switches
# (``RepoMapSettings``: RAGPILOT_CHAT_MAP, RAGPILOT_CHAT_BREADTH, RAGPILOT_EXPAND_GRAPH); a build without them
# reports these variants unavailable. Each variant sets every switch, so a RAGPILOT_* variable in the
# environment cannot turn "chunks" into something else.
VARIANTS: tuple[Variant, ...] = tuple(
    Variant(name, {"repomap.chat_map": chat_map, "repomap.chat_breadth": breadth, "repomap.expand_graph": expand})
    for name, chat_map, breadth, expand in (
        ("chunks", False, False, False), ("chunks+map", True, False, False),
        ("chunks+expand", False, False, True), ("chunks+map+expand", True, False, True),
        ("breadth", False, True, False), ("breadth+map", True, True, False)))


def default_variant(variants: Sequence[Variant], base: ServeSettings) -> str | None:
    """The variant whose serving settings are the defaults (what ``ragpilot serve`` sends), if any."""
    for v in variants:
        if not v.missing(base) and v.apply(base) == base:
            return v.name
    return None


def load_questions(path: Path) -> list[RepoQuestion]:
    """The questions of one JSONL file; a malformed line is a :class:`UsageError` naming it."""
    out: list[RepoQuestion] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            q = RepoQuestion(id=str(raw["id"]), question=str(raw["question"]),
                             gold_files=tuple(raw["gold_files"]), note=dict(raw.get("note") or {}))
        except (ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{path}:{n}: not a repository question ({err})") from None
        if not q.question.strip() or not q.gold_files or q.id in seen:
            raise UsageError(f"{path}:{n}: a question needs an unused id, text and at least one gold file")
        seen.add(q.id)
        out.append(q)
    return out


def coverage(cited: Sequence[str], gold: Sequence[str]) -> float:
    """Share of the gold files among the cited paths (each gold file counts once)."""
    wanted = set(gold)
    return len(wanted & set(cited)) / len(wanted) if wanted else 0.0


class _BudgetOnly:
    """The chat backend as far as context assembly sees it: no known window, the server's token estimate.

    With the packaged model (4,096-token window, 512 for the answer) a short question leaves more room
    than the default 1,500-token context budget, so the budget is the same as here."""

    context_window = None

    @staticmethod
    def count_tokens(text: str) -> int:
        return approx_tokens(text)


@dataclass
class ServedIndex:
    """One indexed folder served the way ``ragpilot serve --no-index`` serves it, for one variant."""

    root: Path
    index_dir: Path
    engine: Engine
    settings: ServeSettings

    def __post_init__(self) -> None:
        index = self.engine.settings(self.index_dir)
        self.settings = self.settings.model_copy(update={"index": index})
        repo = ServedRepo(self.root, index, embedder=self.engine.embedder, embedder_name=self.engine.embedder_name,
                          retrieval=self.settings.retrieval)
        self.repos = RepoSet([repo])
        self.repos.skip_indexing()
        self.state = _ContextState(self.settings, self.repos)

    def context(self, question: str) -> tuple[list[ContextPiece], int]:
        """The pieces the chat endpoint would send for ``question``, and their rendered tokens."""
        messages = [{"role": "user", "content": question}]
        _, snippets = with_context(self.state, _BudgetOnly(), messages, RagOptions(), MAX_TOKENS)
        pieces = [s.piece for s in snippets]
        return pieces, _rendered_tokens(pieces, approx_tokens)

    def close(self) -> None:
        self.repos.close()


@dataclass
class _ContextState:
    """What :func:`with_context` reads of the app state: the settings, the repositories, the retriever."""

    settings: ServeSettings
    repos: RepoSet
    retriever: Retriever = field(init=False)

    def __post_init__(self) -> None:
        self.retriever = Retriever(self.repos)


def _rendered_tokens(pieces: Sequence[ContextPiece], count: TokenCounter) -> int:
    return sum(count(render_piece(n, p)) + 1 for n, p in enumerate(pieces, 1))


def baseline_context(index: BM25Index, question: str, budget: int,
                     count: TokenCounter = approx_tokens, files: dict[str, str] | None = None) -> list[ContextPiece]:
    """The BM25 windows for ``question``, best first, that fit ``budget`` rendered like the chat context."""
    kept: list[ContextPiece] = []
    used = 0
    for hit in index.search(question, k=100):
        text = ""
        if files is not None:
            lines = files[hit.path].split("\n")
            text = "\n".join(lines[hit.start_line - 1: hit.end_line])
        piece = ContextPiece(hit.path, hit.start_line, hit.end_line, text, hit.score)
        cost = count(render_piece(len(kept) + 1, piece)) + 1
        if used + cost <= budget:
            kept.append(piece)
            used += cost
    return kept


def eval_questions(root: Path, index_dir: Path, questions: Sequence[RepoQuestion], engine: Engine, *,
                   variants: Sequence[Variant] = VARIANTS, base: ServeSettings | None = None,
                   notify: Callable[[str], None] = lambda msg: None) -> dict:
    """Score every question's assembled context in every available variant, plus the BM25 baseline."""
    base = base or ServeSettings()
    budget = base.context_tokens
    records = [{"id": q.id, "split": split_of(q.id), "question": q.question, "gold_files": list(q.gold_files),
                "repo_level": is_repo_level(q.question), "methods": {}} for q in questions]
    ran, unavailable = [], {}
    for variant in variants:
        missing = variant.missing(base)
        if missing:
            unavailable[variant.name] = f"no serving setting {', '.join(missing)} in this build"
            notify(f"  {variant.name}: not run ({unavailable[variant.name]})")
            continue
        served = ServedIndex(root, index_dir, engine, variant.apply(base))
        try:
            for record, q in zip(records, questions, strict=True):
                t0 = time.perf_counter()
                pieces, tokens = served.context(q.question)
                record["methods"][variant.name] = _scored(pieces, q, tokens, (time.perf_counter() - t0) * 1000)
        finally:
            served.close()
        ran.append(variant.name)
    files = read_tree(root)
    index = window_index(files)
    for record, q in zip(records, questions, strict=True):
        t0 = time.perf_counter()
        pieces = baseline_context(index, q.question, budget, files=files)
        record["methods"][BASELINE] = _scored(pieces, q, _rendered_tokens(pieces, approx_tokens),
                                              (time.perf_counter() - t0) * 1000)
    methods = [*ran, BASELINE]
    return {"budget_tokens": budget, "methods": methods, "unavailable": unavailable,
            "default": default_variant([v for v in variants if v.name in ran], base),
            "aggregate": {m: _aggregate(records, m) for m in methods}, "questions": records}


def _scored(pieces: Sequence[ContextPiece], q: RepoQuestion, tokens: int, ms: float) -> dict:
    """One context's score; ``code_coverage`` counts only code pieces (a map piece shows signatures)."""
    cited = list(dict.fromkeys(p.path for p in pieces))
    code = [p.path for p in pieces if p.symbol != MAP_SYMBOL]
    return {"coverage": round(coverage(cited, q.gold_files), 4),
            "code_coverage": round(coverage(code, q.gold_files), 4), "cited": cited,
            "map_files": [p.path for p in pieces if p.symbol == MAP_SYMBOL],
            "missed": [g for g in q.gold_files if g not in cited],
            "pieces": [p.citation for p in pieces], "tokens": tokens, "ms": round(ms, 1)}


def _halves(coverages: dict[str, list[float]]) -> dict:
    return {split: {"n": len(v), "coverage": round(mean(v), 4)} for split, v in coverages.items()}


def _aggregate(records: Sequence[dict], method: str) -> dict:
    """The method's means over ``records``, and its coverage on each half (tune / confirm) of them."""
    scored = [r["methods"][method] for r in records if method in r["methods"]]
    halves = {split: [r["methods"][method]["coverage"] for r in records
                      if method in r["methods"] and r.get("split") == split] for split in SPLITS}
    return {"n": len(scored),
            "splits": _halves(halves),
            "coverage": round(mean(s["coverage"] for s in scored), 4),
            "code_coverage": round(mean(s["code_coverage"] for s in scored), 4),
            "with_map": sum(1 for s in scored if s["map_files"]),
            "all_gold": round(mean(1.0 if s["coverage"] == 1.0 else 0.0 for s in scored), 4),
            "files_cited": round(mean(len(s["cited"]) for s in scored), 2),
            "tokens": round(mean(s["tokens"] for s in scored), 1)}


# ----- pinned corpora ---------------------------------------------------------------------------------
def eval_repo_corpus(corpus: PinnedCorpus, engine: Engine, cfg: EvalConfig, *, mirrors: Path,
                     questions_dir: Path = QUESTIONS_DIR, variants: Sequence[Variant] = VARIANTS) -> dict | None:
    """Index the pinned tree as it is (no doc deleted) and score its questions; None when it cannot run."""
    qfile = questions_dir / f"{corpus.name}.jsonl"
    problem = mirror_status(corpus, mirrors)
    if problem or not qfile.is_file():
        cfg.notify(f"skipped {problem or f'{corpus.name}: no questions at {qfile}'}")
        return None
    questions = load_questions(qfile)
    tree = index_pinned(corpus, engine, cfg, mirrors=mirrors)
    absent = sorted({g for q in questions for g in q.gold_files if g not in tree.files})
    if absent:
        raise UsageError(f"{qfile}: gold files not in the indexed tree of {corpus.name}: {', '.join(absent)}")
    result = eval_questions(tree.src, tree.index_dir, questions, engine, variants=variants, notify=cfg.notify)
    return {"corpus": corpus.name, "language": corpus.language, "repo": corpus.repo, "commit": corpus.commit,
            "embedder": engine.embedder_name, "files": len(tree.files), "chunks": tree.summary.chunks_total,
            "index_seconds": round(tree.summary.seconds, 1), **result}


@dataclass(frozen=True)
class IndexedTree:
    """A pinned corpus's indexed tree as it is at its commit: the files, their folder and its index."""

    files: dict[str, bytes]
    src: Path
    index_dir: Path
    summary: IndexSummary


def index_pinned(corpus: PinnedCorpus, engine: Engine, cfg: EvalConfig, *, mirrors: Path) -> IndexedTree:
    """The pinned tree, unmodified, synced and indexed (incrementally) beside the multi-language eval's.

    Same folder as the multi-language eval: its doc index's embedding cache is keyed by content, so the
    chunks this tree shares with it are not embedded again."""
    files = corpus_tree(corpus, mirrors)
    work = work_dir_for(cfg, engine, corpus.work_label, f"{corpus.repo}@{corpus.commit}")
    src, index_dir = work / "repo-src", work / "repo-index"
    _seed_embeddings(index_dir, work / "doc-index" / CACHE_FILE)
    sync_tree(files, src)
    summary = index_tree(engine, src, index_dir, cfg, f"{corpus.name}-repo")
    return IndexedTree(files, src, index_dir, summary)


def _seed_embeddings(index_dir: Path, cache: Path) -> None:
    if not (index_dir / CACHE_FILE).exists() and cache.exists():
        index_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cache, index_dir / CACHE_FILE)


def run_repolevel(corpora: Sequence[PinnedCorpus], engine: Engine, cfg: EvalConfig, *, mirrors: Path,
                  out_dir: Path | None, questions_dir: Path = QUESTIONS_DIR,
                  variants: Sequence[Variant] = VARIANTS) -> list[dict]:
    """Every corpus in turn, then ``summary.md``/``summary.json`` (and ``<corpus>.json``) in ``out_dir``."""
    results = []
    for corpus in corpora:
        result = eval_repo_corpus(corpus, engine, cfg, mirrors=mirrors, questions_dir=questions_dir,
                                  variants=variants)
        if result is None:
            continue
        results.append(result)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / f"{corpus.name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if not results:
        raise UsageError("no corpus with repository questions could be read: fetch the mirrors named above")
    if out_dir is not None:
        summary = summary_json(results)
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        (out_dir / "summary.md").write_text(markdown(summary), encoding="utf-8")
    return results


def summary_json(results: Sequence[dict]) -> dict:
    """Per corpus and method the aggregates, and the mean over every question and over corpora."""
    methods = list(dict.fromkeys(m for r in results for m in r["methods"]))
    overall = {}
    for m in methods:
        scored = [q["methods"][m] for r in results for q in r["questions"] if m in q["methods"]]
        corpus_means = [r["aggregate"][m]["coverage"] for r in results if m in r["aggregate"]]
        halves = {split: [q["methods"][m]["coverage"] for r in results for q in r["questions"]
                          if m in q["methods"] and q.get("split") == split] for split in SPLITS}
        overall[m] = {"n": len(scored), "coverage": round(mean(s["coverage"] for s in scored), 4),
                      "splits": _halves(halves),
                      "code_coverage": round(mean(s["code_coverage"] for s in scored), 4),
                      "corpus_mean": round(mean(corpus_means), 4),
                      "all_gold": round(mean(1.0 if s["coverage"] == 1.0 else 0.0 for s in scored), 4)}
    mapped = [q for r in results for q in r["questions"]
              if any(s["map_files"] for s in q["methods"].values())]
    on_mapped = {m: round(mean(q["methods"][m]["coverage"] for q in mapped if m in q["methods"]), 4)
                 for m in methods} if mapped else {}
    gated = [q["id"] for r in results for q in r["questions"] if q.get("repo_level")]
    return {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "ragpilot": ragpilot_version(), "methods": methods,
            "repo_level": {"n": len(gated), "ids": gated},
            "map_questions": {"n": len(mapped), "ids": [q["id"] for q in mapped], "coverage": on_mapped},
            "unavailable": {name: why for r in results for name, why in r["unavailable"].items()},
            "default": next((r.get("default") for r in results if r.get("default")), None),
            "corpora": [{k: v for k, v in r.items() if k != "questions"} for r in results], "overall": overall}


def ragpilot_version() -> str:
    """The commit of the ragpilot checkout measured ("+dirty" with uncommitted edits), or "" outside git:
    other work lands in the same tree while an eval runs, so a result names the code it measured."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = git(root, "rev-parse", "--short=12", "HEAD").decode().strip()
        dirty = git(root, "status", "--porcelain", "--untracked-files=no").strip()
    except (UsageError, OSError):
        return ""
    return head + ("+dirty" if dirty else "")


def markdown(summary: dict) -> str:
    """The summary as the table for eval/README.md."""
    methods = summary["methods"]
    budget = summary["corpora"][0]["budget_tokens"] if summary["corpora"] else 0
    lines = [f"# Repository-level questions: gold-file coverage of the assembled chat context ({budget} tokens)",
             "", f"ragpilot {summary.get('ragpilot') or '(not a git checkout)'}, {summary['created']}.", "", "| corpus (questions, files, chunks) | " + " | ".join(methods) + " |",
             "|---|" + "---|" * len(methods)]
    for r in summary["corpora"]:
        cells = [_cell(r["aggregate"].get(m)) for m in methods]
        lines.append(f"| {r['corpus']} ({r['language']}; {r['aggregate'][methods[-1]]['n']}, {r['files']}, "
                     f"{r['chunks']}) | " + " | ".join(cells) + " |")
    cells = [f"**{summary['overall'][m]['coverage']:.3f}** / {summary['overall'][m]['all_gold']:.2f}" for m in methods]
    lines.append("| all questions | " + " | ".join(cells) + " |")
    lines += ["", "Cells: mean gold-file coverage / share of questions with every gold file cited "
              "(files cited on average, tokens used on average). A map piece (a file's key signatures) counts "
              "as citing its file; code-only coverage (map pieces left out): "
              + ", ".join(f"{m} {summary['overall'][m]['code_coverage']:.3f}" for m in methods) + "."]
    total = summary["overall"][methods[0]]["n"]
    if "repo_level" in summary:
        lines.append(f"The chat treats {summary['repo_level']['n']} of {total} questions as repository-level "
                     "(serve/prompt.is_repo_level: the others get the chunk search's context in every variant).")
    mq = summary["map_questions"]
    if mq["n"]:
        lines.append(f"{mq['n']} of {total} questions got a map slice in some variant; on those, coverage: "
                     + ", ".join(f"{m} {v:.3f}" for m, v in mq["coverage"].items()) + ".")
    if summary.get("default"):
        lines.append(f"The serving defaults (what `ragpilot serve`'s chat sends) are the `{summary['default']}` "
                     "variant.")
    for name, why in summary["unavailable"].items():
        lines.append(f"- `{name}`: not run: {why}.")
    lines += ["", *split_table(summary)]
    return "\n".join(lines) + "\n"


def split_table(summary: dict) -> list[str]:
    """Coverage on each half of the questions: settings are tuned on ``tune``; ``confirm`` is the held-out
    check (each question's half is a fixed function of its id, eval/doctasks.split_of)."""
    methods = summary["methods"]
    lines = ["Coverage by half (tune: the questions settings were chosen on; confirm: held out):", "",
             "| corpus | half (questions) | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    rows = [(r["corpus"], r["aggregate"]) for r in summary["corpora"]] + [("all questions", summary["overall"])]
    for name, agg in rows:
        first = agg[methods[-1]]
        for split in (*SPLITS, "all"):
            n = first["n"] if split == "all" else first.get("splits", {}).get(split, {}).get("n", 0)
            cells = [_split_cell(agg.get(m), split) for m in methods]
            lines.append(f"| {name} | {split} ({n}) | " + " | ".join(cells) + " |")
    return lines


def _split_cell(agg: dict | None, split: str) -> str:
    if agg is None:
        return "—"
    if split == "all":
        return f"{agg['coverage']:.3f}"
    half = agg.get("splits", {}).get(split)
    return f"{half['coverage']:.3f}" if half and half["n"] else "—"


def _cell(agg: dict | None) -> str:
    if agg is None:
        return "—"
    return f"{agg['coverage']:.3f} / {agg['all_gold']:.2f} ({agg['files_cited']:.1f} files, {agg['tokens']:.0f} tok)"
