"""Symbol navigation accuracy: ``find_symbol`` and ``find_references`` against hand-checked gold.

For each corpus, ``eval/tasks/symbols/<corpus>.json`` lists symbols with their **definition sites**
and their **true reference sites**, found by grep and read at the pinned commit (``path`` and the
1-based ``line``). A reference site is a line of the indexed tree that uses the symbol in code — a
call, a type use, an import, a method value — and not its definition, a comment or a string. For a
method whose bare name other types share (``Mux.Handle``), only the uses that resolve to that method
count: a name-only index cannot tell them apart, and the precision says what that costs.

Scores (through :mod:`ragpilot.retrieval.symbols`, the query layer of issue #14's symbol index):

- ``def@1``: the first match of ``find_symbol(query)`` is a gold definition (its lines contain the
  gold line, or it starts on it);
- ``def recall@5``: share of the gold definitions among the first five matches;
- references: the lines ``find_references(query)`` returns against the gold lines (a predicted line
  that is a gold definition line is ignored, not counted wrong), as precision and recall, micro
  (all lines of a corpus pooled) and macro (mean over symbols).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragpilot.indexer.errors import RagpilotError, UsageError
from ragpilot.retrieval import symbols

from .engine import Engine
from .metrics import mean
from .pinned import PinnedCorpus, mirror_status
from .repolevel import index_pinned, ragpilot_version
from .runner import EvalConfig

GOLD_DIR = Path(__file__).with_name("tasks") / "symbols"
DEF_K = 5
Site = tuple[str, int]  # (repo-relative path, 1-based line)


@dataclass(frozen=True)
class SymbolGold:
    """One symbol: the query a user would type, where it is defined, and every line that uses it."""

    query: str
    definitions: tuple[Site, ...]
    references: frozenset[Site]
    note: str = ""


def load_gold(path: Path) -> list[SymbolGold]:
    """The symbols of one gold file; a malformed entry is a :class:`UsageError` naming it."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, item in enumerate(raw.get("symbols", [])):
        try:
            defs = tuple((d["path"], int(d["line"])) for d in item["definitions"])
            refs = frozenset((r["path"], int(r["line"])) for r in item["references"])
            query = str(item["query"])
        except (KeyError, TypeError, ValueError) as err:
            raise UsageError(f"{path}: symbol #{i + 1} is malformed ({err})") from None
        if not query or not defs:
            raise UsageError(f"{path}: symbol #{i + 1} needs a query and at least one definition")
        out.append(SymbolGold(query, defs, refs, str(item.get("note", ""))))
    return out


def gold_sites(gold: Sequence[SymbolGold]) -> set[Site]:
    """Every (path, line) a gold file names: the test suite checks each exists at the pinned commit."""
    return {site for g in gold for site in (*g.definitions, *g.references)}


# ----- reading the query layer's results (fields per the shared contract, /tmp/symbols_api.md) -------
def _field(match: object, *names: str):
    for holder in (match, getattr(match, "definition", None), getattr(match, "reference", None)):
        if holder is None:
            continue
        for name in names:
            value = getattr(holder, name, None)
            if value is not None:
                return value
    raise UsageError(f"a symbol match without {' or '.join(names)}: {match!r}")


def match_span(match: object) -> tuple[str, int, int]:
    """A ``find_symbol`` match as (path, first line, last line)."""
    start = int(_field(match, "line_start", "line"))
    try:
        end = int(_field(match, "line_end"))
    except UsageError:
        end = start
    return str(_field(match, "path")), start, end


def reference_site(match: object) -> Site:
    return str(_field(match, "path")), int(_field(match, "line"))


def is_definition(span: tuple[str, int, int], site: Site) -> bool:
    path, start, end = span
    return path == site[0] and (start <= site[1] <= end or start == site[1])


def score_symbol(gold: SymbolGold, matches: Sequence[object], references: Sequence[object]) -> dict:
    """def@1, def recall@5 and reference precision/recall of one symbol's two answers."""
    spans = [match_span(m) for m in matches]
    top1 = bool(spans) and any(is_definition(spans[0], d) for d in gold.definitions)
    found = sum(1 for d in gold.definitions if any(is_definition(s, d) for s in spans[:DEF_K]))
    predicted = {reference_site(r) for r in references} - set(gold.definitions)
    hits = predicted & gold.references
    return {
        "query": gold.query, "def_at_1": top1, "def_recall_at_5": found / len(gold.definitions),
        "top": [f"{p}:{a}-{b}" for p, a, b in spans[:DEF_K]],
        "refs_gold": len(gold.references), "refs_predicted": len(predicted), "refs_hit": len(hits),
        "ref_precision": len(hits) / len(predicted) if predicted else (1.0 if not gold.references else 0.0),
        "ref_recall": len(hits) / len(gold.references) if gold.references else 1.0,
        "false_refs": sorted(f"{p}:{n}" for p, n in predicted - gold.references)[:20],
        "missed_refs": sorted(f"{p}:{n}" for p, n in gold.references - predicted)[:20],
    }


def aggregate(scored: Sequence[dict]) -> dict:
    hit = sum(s["refs_hit"] for s in scored)
    pred = sum(s["refs_predicted"] for s in scored)
    gold = sum(s["refs_gold"] for s in scored)
    return {"n": len(scored),
            "def_at_1": round(mean(1.0 if s["def_at_1"] else 0.0 for s in scored), 4),
            "def_recall_at_5": round(mean(s["def_recall_at_5"] for s in scored), 4),
            "ref_precision_micro": round(hit / pred, 4) if pred else 0.0,
            "ref_recall_micro": round(hit / gold, 4) if gold else 0.0,
            "ref_precision_macro": round(mean(s["ref_precision"] for s in scored), 4),
            "ref_recall_macro": round(mean(s["ref_recall"] for s in scored), 4)}


def symbol_queries() -> tuple[Callable, Callable]:
    """The two queries scored (a seam: the scorer's tests pass hand-made answers)."""
    return symbols.find_symbol, symbols.find_references


def check_index(index_dir: Path, gold: Sequence[SymbolGold]) -> list[dict]:
    """Score every gold symbol against the symbol index in ``index_dir``."""
    find_symbol, find_references = symbol_queries()
    out = []
    for g in gold:
        t0 = time.perf_counter()
        try:
            matches = find_symbol(index_dir, g.query, limit=20)
            refs = find_references(index_dir, g.query, limit=200)
        except RagpilotError as err:
            matches, refs = [], []
            error = str(err)
        else:
            error = ""
        scored = score_symbol(g, matches, refs)
        scored["ms"] = round((time.perf_counter() - t0) * 1000, 1)
        if error:
            scored["error"] = error
        out.append(scored)
    return out


def run_symbolcheck(corpora: Sequence[PinnedCorpus], engine: Engine, cfg: EvalConfig, *, mirrors: Path,
                    out_dir: Path | None, gold_dir: Path = GOLD_DIR) -> list[dict]:
    """Every corpus with a gold file: index its pinned tree, score, write ``<out_dir>/summary.json``."""
    results = []
    for corpus in corpora:
        gfile = gold_dir / f"{corpus.name}.json"
        problem = mirror_status(corpus, mirrors)
        if problem or not gfile.is_file():
            cfg.notify(f"skipped {problem or f'{corpus.name}: no symbol gold at {gfile}'}")
            continue
        gold = load_gold(gfile)
        tree = index_pinned(corpus, engine, cfg, mirrors=mirrors)
        scored = check_index(tree.index_dir, gold)
        results.append({"corpus": corpus.name, "language": corpus.language, "commit": corpus.commit,
                        "ragpilot": ragpilot_version(), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                        "aggregate": aggregate(scored), "symbols": scored})
    if not results:
        raise UsageError("no corpus with symbol gold could be read: fetch the mirrors named above")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "summary.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        (out_dir / "summary.md").write_text(markdown(results), encoding="utf-8")
    return results


def markdown(results: Sequence[dict]) -> str:
    lines = ["# Symbol navigation: find_symbol / find_references against hand-checked gold", "",
             f"ragpilot {results[0].get('ragpilot') or '(not a git checkout)'}, {results[0].get('created', '')}.", "",
             "| corpus (symbols) | def@1 | def R@5 | refs P (micro) | refs R (micro) | refs P (macro) | refs R (macro) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        a = r["aggregate"]
        lines.append(f"| {r['corpus']} ({r['language']}, {a['n']}) | {a['def_at_1']:.2f} | {a['def_recall_at_5']:.2f} | "
                     f"{a['ref_precision_micro']:.2f} | {a['ref_recall_micro']:.2f} | {a['ref_precision_macro']:.2f} | "
                     f"{a['ref_recall_macro']:.2f} |")
    return "\n".join(lines) + "\n"
