"""Hand-written questions on a pinned corpus: gold paths are found in the pinned tree, every ragpilot mode
and both baselines answer them on the unmodified tree, and the questions table averages over corpora."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ragpilot.eval.engine import Engine
from ragpilot.eval.pinned import PinnedCorpus
from ragpilot.eval.questions import eval_questions, load_questions, markdown, rows
from ragpilot.eval.runner import EvalConfig
from ragpilot.indexer.errors import UsageError

ROUTER = """package demo

// Mount attaches a sub-router under the given path prefix.
func Mount(prefix string) {
	println("mounting the subrouter at", prefix)
}
"""
THROTTLE = """package demo

func limitConcurrent(limit int) {
	tokens := make(chan struct{}, limit)
	backlog := make(chan struct{}, limit*2)
	_ = tokens
	_ = backlog
}
"""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin",
                               "HOME": str(cwd)}).stdout.strip()


@pytest.fixture
def pinned(tmp_path: Path) -> tuple[PinnedCorpus, Path]:
    """A bare mirror ``o+demo/repo`` of a two-file Go repository, and the corpus pinned at its head."""
    work = tmp_path / "work"
    (work / "mw").mkdir(parents=True)
    (work / "router.go").write_text(ROUTER)
    (work / "mw" / "throttle.go").write_text(THROTTLE)
    (work / "router_test.go").write_text("package demo\n\nfunc TestMount() { Mount(\"/x\") }\n")
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "import")
    head = _git(work, "rev-parse", "HEAD")
    mirrors = tmp_path / "mirrors"
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(mirrors / "o+demo" / "repo"))
    return PinnedCorpus("demo", "go", "o/demo", head, exclude=("*_test.go",)), mirrors


def _write_tasks(tasks_dir: Path, name: str, tasks: list[dict]) -> None:
    tasks_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# a comment line is not a task", *(json.dumps(t) for t in tasks)]
    (tasks_dir / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def test_every_mode_and_both_baselines_answer_the_questions_on_the_unmodified_tree(
        pinned, tmp_path: Path, ragpilot_home):
    corpus, mirrors = pinned
    tasks_dir = tmp_path / "tasks"
    _write_tasks(tasks_dir, "demo", [
        {"id": "mount", "query": "mounting the subrouter at a prefix",
         "gold": [{"path": "router.go", "start_line": 4, "end_line": 6}]},
        {"id": "throttle", "query": "tokens and backlog channels for a concurrency limit",
         "gold": [{"path": "mw/throttle.go", "start_line": 3, "end_line": 8}]},
    ])
    cfg = EvalConfig(modes=["lexical", "dense", "hybrid", "files"], work_dir=tmp_path / "w")
    result = eval_questions(corpus, Engine("hashing"), cfg, mirrors=mirrors, tasks_dir=tasks_dir)

    assert result["kind"] == "handwritten" and result["n_tasks"] == 2
    assert set(result["modes"]) == {"bm25-window40", "bm25-file", "lexical", "dense", "hybrid", "files"}
    assert result["modes"]["bm25-file"]["chunk"] is None  # a whole file overlaps every range
    assert result["modes"]["files"]["chunk"] is None and result["modes"]["files"]["file"]["recall@10"] == 1.0
    for method in ("bm25-window40", "lexical"):
        assert result["modes"][method]["chunk"]["recall@10"] == 1.0, method
        assert result["modes"][method]["chunk"]["mrr@10"] == 1.0, method
    by_id = {t["id"]: t for t in result["tasks"]}
    assert by_id["mount"]["modes"]["lexical"]["hits"][0].startswith("router.go:")
    # the questions tree is the pinned tree as is: the doc comment of Mount is still there
    src = next((tmp_path / "w").glob("demo-pinned-*")) / "questions-src"
    assert (src / "router.go").read_text() == ROUTER and not (src / "router_test.go").exists()


def test_a_question_whose_gold_shares_no_word_with_it_scores_zero(pinned, tmp_path: Path, ragpilot_home):
    corpus, mirrors = pinned
    tasks_dir = tmp_path / "tasks"
    _write_tasks(tasks_dir, "demo", [
        {"id": "wrong", "query": "mounting the subrouter at a prefix",
         "gold": [{"path": "mw/throttle.go", "start_line": 3, "end_line": 8}]},
    ])
    cfg = EvalConfig(modes=["lexical"], work_dir=tmp_path / "w")
    result = eval_questions(corpus, Engine("hashing"), cfg, mirrors=mirrors, tasks_dir=tasks_dir)
    for method in ("bm25-window40", "lexical"):
        assert result["modes"][method]["chunk"]["recall@10"] == 0.0, method
        assert result["modes"][method]["file"]["recall@10"] == 0.0, method


def test_a_corpus_without_a_question_file_has_no_questions_part(pinned, tmp_path: Path, ragpilot_home):
    corpus, mirrors = pinned
    cfg = EvalConfig(modes=["lexical"], work_dir=tmp_path / "w")
    assert eval_questions(corpus, Engine("hashing"), cfg, mirrors=mirrors, tasks_dir=tmp_path / "none") is None


def test_gold_written_for_a_package_copy_is_found_under_the_source_folders_parent(tmp_path: Path):
    tree = tmp_path / "tree"
    (tree / "src" / "pkg").mkdir(parents=True)
    (tree / "src" / "pkg" / "core.py").write_text("def first():\n    return 1\n\n\ndef second():\n    return 2\n")
    tasks_dir = tmp_path / "tasks"
    _write_tasks(tasks_dir, "pkg", [{"query": "the second one", "gold": [{"path": "pkg/core.py",
                                                                        "symbol": "second"}]}])
    corpus = PinnedCorpus("pkg", "python", "o/pkg", "0" * 40, source=("src/pkg",))
    [task] = load_questions(tasks_dir / "pkg.jsonl", tree, corpus)
    assert [(g.path, g.start_line, g.end_line) for g in task.gold] == [("src/pkg/core.py", 5, 6)]


def test_gold_that_fits_no_root_of_the_tree_is_a_usage_error_naming_the_file(tmp_path: Path):
    (tmp_path / "tree").mkdir()
    _write_tasks(tmp_path, "pkg", [{"query": "q", "gold": [{"path": "nowhere.go"}]}])
    corpus = PinnedCorpus("pkg", "go", "o/pkg", "0" * 40)
    with pytest.raises(UsageError, match="pkg.jsonl"):
        load_questions(tmp_path / "pkg.jsonl", tmp_path / "tree", corpus)


def _result(corpus: str, r10: dict[str, float]) -> dict:
    modes = {m: {"chunk": None if v is None else {"recall@1": v / 2, "recall@10": v, "mrr@10": v / 2},
                 "file": {"recall@10": 1.0}} for m, v in r10.items()}
    return {"corpus": corpus, "language": "go", "questions": {"n_tasks": 4, "modes": modes}}


def test_the_questions_table_has_a_row_per_method_and_the_mean_over_corpora():
    results = [_result("a", {"bm25-window40": 0.5, "bm25-file": None, "hybrid": 1.0}),
               _result("b", {"bm25-window40": 1.0, "bm25-file": None, "hybrid": 0.5}),
               {"corpus": "c", "language": "rust", "questions": None}]
    table = rows(results)
    assert [r[:3] for r in table] == [["a", "go", "bm25-window40"], ["", "", "bm25-file"], ["", "", "hybrid"],
                                      ["b", "go", "bm25-window40"], ["", "", "bm25-file"], ["", "", "hybrid"],
                                      ["mean", "", "bm25-window40"], ["", "", "bm25-file"], ["", "", "hybrid"]]
    assert table[-3][4:] == ["0.375", "0.750", "0.375", "1.000"]  # R@1, R@10, MRR, file R@10
    assert table[-2][4:7] == ["—", "—", "—"]
    md = markdown(results).splitlines()
    assert md[0].startswith("## Hand-written questions") and len(md) == 4 + len(table)
    assert md[-3] == "| mean |  | bm25-window40 |  | 0.375 | 0.750 | 0.375 | 1.000 |"


def test_no_corpus_with_questions_means_no_questions_table():
    assert rows([{"corpus": "a", "language": "go"}]) == [] and markdown([]) == ""
