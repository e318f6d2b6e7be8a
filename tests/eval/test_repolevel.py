"""Repository-level questions: the question files, their gold against the pinned trees, the coverage
metric, the budget-packed BM25 baseline, and one end-to-end run on a small repository built here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from mirrors import bare_mirror

from ragpilot.eval.baselines import window_index
from ragpilot.eval.cli import main as eval_main
from ragpilot.eval.doctasks import split_of
from ragpilot.eval.engine import Engine
from ragpilot.eval.pinned import PinnedCorpus, load_registry, mirror_status, mirrors_root
from ragpilot.eval.repolevel import (
    BASELINE,
    QUESTIONS_DIR,
    VARIANTS,
    Variant,
    baseline_context,
    coverage,
    default_variant,
    eval_questions,
    load_questions,
    run_repolevel,
)
from ragpilot.eval.runner import EvalConfig
from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.types import approx_tokens
from ragpilot.retrieval.render import render_piece
from ragpilot.serve.settings import ServeSettings

QUESTION_FILES = sorted(QUESTIONS_DIR.glob("*.jsonl"))
REGISTRY = {c.name: c for c in load_registry()}


# ----- the question files ------------------------------------------------------------------------------
def test_there_are_thirty_questions_over_three_corpora_not_all_python():
    per_corpus = {p.stem: load_questions(p) for p in QUESTION_FILES}
    assert sum(len(qs) for qs in per_corpus.values()) >= 30
    assert len(per_corpus) >= 3 and all(8 <= len(qs) <= 10 for qs in per_corpus.values())
    assert set(per_corpus) <= set(REGISTRY)
    assert len({REGISTRY[name].language for name in per_corpus}) >= 3


@pytest.mark.parametrize("path", QUESTION_FILES, ids=lambda p: p.stem)
def test_each_question_has_two_to_five_gold_files_each_with_a_reason(path: Path):
    for q in load_questions(path):
        assert 2 <= len(q.gold_files) <= 5, q.id
        assert len(set(q.gold_files)) == len(q.gold_files), q.id
        assert set(q.note) == set(q.gold_files) and all(q.note.values()), q.id


@pytest.mark.parametrize("path", QUESTION_FILES, ids=lambda p: p.stem)
def test_every_gold_file_is_in_the_indexed_tree_at_the_pinned_commit(path: Path):
    corpus = REGISTRY[path.stem]
    problem = mirror_status(corpus, mirrors_root())
    if problem:
        pytest.skip(f"no mirror to check against: {problem}")
    listing = subprocess.run(["git", "--git-dir", str(corpus.mirror_dir(mirrors_root())), "ls-tree", "-r",
                              "--name-only", corpus.commit], capture_output=True, text=True, check=True).stdout
    indexed = {rel for rel in listing.splitlines() if corpus.wants(rel)}
    missing = {g for q in load_questions(path) for g in q.gold_files} - indexed
    assert not missing


def test_a_malformed_or_repeated_question_names_its_line(tmp_path: Path):
    good = {"id": "a", "question": "how?", "gold_files": ["x.py", "y.py"]}
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"id": "b", "question": "why?"}) + "\n")
    with pytest.raises(UsageError, match=r"q.jsonl:2"):
        load_questions(path)
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(good) + "\n")
    with pytest.raises(UsageError, match=r"q.jsonl:3"):
        load_questions(path)


# ----- the metric and the baseline -----------------------------------------------------------------------
def test_coverage_is_the_share_of_gold_files_cited_each_counted_once():
    cited = ["mux.go", "README.md", "mux.go", "tree.go"]
    assert coverage(cited, ["mux.go", "tree.go", "chain.go"]) == pytest.approx(2 / 3)
    assert coverage(cited, ["mux.go", "mux.go"]) == 1.0
    assert coverage([], ["mux.go"]) == 0.0
    assert coverage(["README.md", "go.mod"], ["mux.go"]) == 0.0


def test_the_baseline_packs_its_best_windows_into_the_budget_rendered_like_the_chat_context():
    files = {"route.py": "def route(path):\n    return dispatch(path)\n" * 30,
             "other.py": "x = 1\n" * 100,
             "dispatch.py": "def dispatch(path):\n    return handlers[path]\n" * 30}
    index = window_index(files)
    pieces = baseline_context(index, "route dispatch", 400, files=files)
    assert pieces and {p.path for p in pieces} <= {"route.py", "dispatch.py"}
    assert sum(approx_tokens(render_piece(n, p)) + 1 for n, p in enumerate(pieces, 1)) <= 400
    assert all(p.text == "\n".join(files[p.path].split("\n")[p.start_line - 1: p.end_line]) for p in pieces)
    more = baseline_context(index, "route dispatch", 3000, files=files)
    assert len(more) > len(pieces)


def test_a_variant_names_the_settings_this_build_lacks_and_sets_nested_ones():
    base = ServeSettings()
    assert Variant("x", {"no_such_switch": True, "retrieval.max_per_file": 3}).missing(base) == ["no_such_switch"]
    applied = Variant("y", {"retrieval.max_per_file": 3, "k": 5}).apply(base)
    assert applied.retrieval.max_per_file == 3 and applied.k == 5 and base.retrieval.max_per_file != 3


def test_the_chunks_variant_stays_chunks_only_when_the_environment_turns_the_map_on(monkeypatch):
    monkeypatch.setenv("RAGPILOT_CHAT_MAP", "1")
    monkeypatch.setenv("RAGPILOT_EXPAND_GRAPH", "1")
    base = ServeSettings()
    applied = {v.name: v.apply(base).repomap for v in VARIANTS}
    assert (applied["chunks"].chat_map, applied["chunks"].expand_graph) == (False, False)
    assert (applied["chunks+map"].chat_map, applied["chunks+map"].expand_graph) == (True, False)
    assert (applied["chunks+expand"].chat_map, applied["chunks+expand"].expand_graph) == (False, True)
    assert not any(v.missing(base) for v in VARIANTS)
    monkeypatch.setenv("RAGPILOT_CHAT_BREADTH", "1")
    applied = {v.name: v.apply(ServeSettings()).repomap for v in VARIANTS}
    assert not any(applied[n].chat_breadth for n in ("chunks", "chunks+map", "chunks+expand", "chunks+map+expand"))
    assert (applied["breadth"].chat_map, applied["breadth"].chat_breadth) == (False, True)


def test_the_report_names_the_variant_the_chat_sends_by_default(monkeypatch):
    for var in ("RAGPILOT_CHAT_MAP", "RAGPILOT_CHAT_BREADTH", "RAGPILOT_EXPAND_GRAPH"):
        monkeypatch.delenv(var, raising=False)
    assert default_variant(VARIANTS, ServeSettings()) == "breadth+map"
    monkeypatch.setenv("RAGPILOT_CHAT_BREADTH", "0")
    assert default_variant(VARIANTS, ServeSettings()) == "chunks+map"
    assert default_variant((Variant("chunks", {"repomap.chat_map": False}),), ServeSettings()) is None


# ----- end to end on a small repository ------------------------------------------------------------------
SERVER = '''from app.middleware import compose
from app.router import Router


class Server:
    """Accepts a request, runs it through the middleware stack, then the router."""

    def __init__(self, middlewares):
        self.router = Router()
        self.handler = compose(middlewares, self.router.dispatch)

    def handle(self, request):
        return self.handler(request)
'''
MIDDLEWARE = '''def compose(middlewares, endpoint):
    """Wrap the endpoint in the middlewares, the first one outermost."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = middleware(handler)
    return handler
'''
ROUTER = '''from app.handlers import match_handler


class Router:
    def __init__(self):
        self.routes = {}

    def add_route(self, pattern, handler):
        self.routes[pattern] = handler

    def dispatch(self, request):
        handler = match_handler(self.routes, request.path)
        return handler(request)
'''
HANDLERS = '''def match_handler(routes, path):
    """Find the handler whose pattern matches the path, segment by segment."""
    for pattern, handler in routes.items():
        if all(a == b or a.startswith("{") for a, b in zip(pattern.split("/"), path.split("/"))):
            return handler
    return not_found


def not_found(request):
    return 404
'''
FILLER = "\n".join(f"def helper_{i}(value):\n    return value + {i}\n" for i in range(80))
TINY_TREE = {"app/server.py": SERVER, "app/middleware.py": MIDDLEWARE, "app/router.py": ROUTER,
             "app/handlers.py": HANDLERS, "app/util.py": FILLER, "README.md": "# tiny\nA tiny web framework.\n"}
TINY_QUESTIONS = [
    {"id": "tiny-flow", "question": "How does Server.handle pass a request through compose and the middlewares "
                                    "to Router.dispatch?",
     "gold_files": ["app/server.py", "app/middleware.py", "app/router.py"],
     "note": {"app/server.py": "Server", "app/middleware.py": "compose", "app/router.py": "dispatch"}},
    {"id": "tiny-match", "question": "Where does match_handler find the handler for a path, and who calls it?",
     "gold_files": ["app/handlers.py", "app/router.py"],
     "note": {"app/handlers.py": "match_handler", "app/router.py": "Router.dispatch calls it"}},
]


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path, str]:
    """A bare mirror ``o+tiny/repo`` of a small Python web framework, and its questions folder."""
    mirrors, head = bare_mirror(tmp_path, "o/tiny", TINY_TREE)
    questions = tmp_path / "questions"
    questions.mkdir()
    (questions / "tiny.jsonl").write_text("".join(json.dumps(q) + "\n" for q in TINY_QUESTIONS))
    return mirrors, questions, head


def test_a_run_indexes_the_pinned_tree_scores_every_question_and_writes_the_summary(tiny, tmp_path: Path,
                                                                                     ragpilot_home):
    mirrors, questions, head = tiny
    corpus = PinnedCorpus("tiny", "python", "o/tiny", head, source=("app",))
    cfg = EvalConfig(modes=["hybrid"], work_dir=tmp_path / "w")
    variants = (Variant("chunks"), Variant("chunks+nothing", {"no_such_switch": True}))
    out = tmp_path / "out"
    [result] = run_repolevel([corpus], Engine("hashing"), cfg, mirrors=mirrors, out_dir=out,
                             questions_dir=questions, variants=variants)
    assert result["methods"] == ["chunks", BASELINE]
    assert "no_such_switch" in result["unavailable"]["chunks+nothing"]
    assert [q["id"] for q in result["questions"]] == ["tiny-flow", "tiny-match"]
    for q in result["questions"]:
        for scored in q["methods"].values():
            assert set(scored["cited"]) <= set(TINY_TREE)
            assert scored["tokens"] <= result["budget_tokens"]
            assert scored["coverage"] == coverage(scored["cited"], q["gold_files"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["chunks"]["n"] == 2
    assert [q["split"] for q in result["questions"]] == [split_of("tiny-flow"), split_of("tiny-match")]
    halves = summary["overall"]["chunks"]["splits"]
    assert halves["tune"]["n"] + halves["confirm"]["n"] == 2
    table = (out / "summary.md").read_text()
    assert all(f"| tiny | {half} (" in table for half in ("tune", "confirm", "all"))
    assert summary["repo_level"]["n"] == 2 and "treats 2 of 2 questions as repository-level" in table
    assert (out / "tiny.json").is_file() and "| tiny (python; 2," in (out / "summary.md").read_text()


def test_the_context_is_cut_to_the_serving_budget_and_still_finds_the_named_code(tiny, tmp_path: Path,
                                                                                 ragpilot_home):
    mirrors, _, head = tiny
    src = tmp_path / "src"
    for rel, text in TINY_TREE.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    engine = Engine("hashing")
    engine.index(src, tmp_path / "index")
    questions = [load_questions_from(TINY_QUESTIONS, tmp_path)[1]]
    result = eval_questions(src, tmp_path / "index", questions, engine, variants=(Variant("chunks"),),
                            base=ServeSettings(context_tokens=150))
    scored = result["questions"][0]["methods"]["chunks"]
    assert result["budget_tokens"] == 150 and 0 < scored["tokens"] <= 150
    assert "app/handlers.py" in scored["cited"]
    assert "app/util.py" not in scored["cited"]


def load_questions_from(items: list[dict], tmp_path: Path):
    path = tmp_path / "qs.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in items))
    return load_questions(path)


@pytest.mark.parametrize(("flag", "what"), [("--repo-questions", "repository questions"),
                                           ("--symbol-check", "symbol gold")])
def test_the_cli_names_the_missing_mirror_and_fails_with_one_line(flag, what, tmp_path: Path, capsys,
                                                                 ragpilot_home):
    code = eval_main([flag, "--corpora", "chi", "--mirrors", str(tmp_path), "--out", "-"])
    err = capsys.readouterr().err
    assert code == 2
    assert "fetch github:go-chi/chi" in err and f"no corpus with {what}" in err
    assert "Traceback" not in err
