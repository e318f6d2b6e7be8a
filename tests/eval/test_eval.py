"""The retrieval benchmark: task builders, metrics, task files, git-history tasks, and the runs themselves."""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from eval_checks import FAST_MODES, assert_sane, eval_config

from ragpilot.eval import metrics
from ragpilot.eval.cli import main as eval_main
from ragpilot.eval.corpora import corpus_files, python_sources, sync_tree
from ragpilot.eval.docstrings import build_docstring_tasks, first_sentence, is_meaningful
from ragpilot.eval.engine import Engine, parse_mode, searcher_options
from ragpilot.eval.git_tasks import build_git_tasks, clean_subject, is_source_path, tree_files
from ragpilot.eval.runner import eval_docstrings, eval_git, eval_task_file
from ragpilot.eval.tasks import GoldSpan, load_task_file
from ragpilot.indexer.errors import UsageError
from ragpilot.retrieval.rerankers import Reranker

MODULE = textwrap.dedent('''\
    """A tiny module with documented functions."""

    import os


    @staticmethod
    def parse_retry_header(value):
        """Parse the Retry-After header into a number of seconds.

        Longer explanation that is not part of the query.
        """
        if value.isdigit():
            return int(value)
        return None


    class Cache:
        """An in-memory cache."""

        def __init__(self):
            """Create an empty cache with no entries at all."""
            self.items = {}

        def evict_oldest(self):
            """Drop the least recently used entry from the cache."""
            key = next(iter(self.items))
            del self.items[key]

        def size(self):
            """Return self."""
            return len(self.items)

        def abstract_hook(self):
            """Subclasses override this hook to observe evictions."""
            raise NotImplementedError

        async def fetch_remote(self, url):
            """Fetch a remote value over the network and store it."""  # trailing comment
            data = await os.fetch(url)
            self.items[url] = data
            return data
    ''')


def _build(sources: dict[str, str], **kw):
    kw.setdefault("max_tasks", 100)
    return build_docstring_tasks(sources, **kw)


# ----- docstring -> function tasks -------------------------------------------------------------------
def test_a_docstring_task_queries_the_first_sentence_and_removes_the_docstring_from_the_copy():
    tasks, rewritten = _build({"pkg/mod.py": MODULE})
    by_symbol = {t.meta["symbol"]: t for t in tasks}
    assert set(by_symbol) == {"parse_retry_header", "Cache.evict_oldest", "Cache.fetch_remote"}
    assert by_symbol["parse_retry_header"].query == "Parse the Retry-After header into a number of seconds"
    new = rewritten["pkg/mod.py"]
    ast.parse(new)  # still valid Python
    for t in tasks:
        assert t.query not in new, "the answer must not be findable by its own docstring"
    assert "Longer explanation" not in new  # the whole docstring goes, not just the first sentence
    # docstrings of functions that are not tasks stay, as distractors
    assert "An in-memory cache." in new and "Create an empty cache" in new and "Return self." in new


def test_gold_ranges_point_at_the_whole_function_in_the_stripped_copy():
    tasks, rewritten = _build({"pkg/mod.py": MODULE})
    lines = rewritten["pkg/mod.py"].split("\n")
    by_symbol = {t.meta["symbol"]: t.gold[0] for t in tasks}

    g = by_symbol["parse_retry_header"]
    assert g.path == "pkg/mod.py"
    assert lines[g.start_line - 1] == "@staticmethod"  # decorators belong to the function
    assert lines[g.start_line] == "def parse_retry_header(value):"
    assert lines[g.end_line - 1].strip() == "return None"

    g = by_symbol["Cache.evict_oldest"]
    assert lines[g.start_line - 1].strip() == "def evict_oldest(self):"
    assert lines[g.start_line].strip() == "key = next(iter(self.items))"  # the docstring line is gone
    assert lines[g.end_line - 1].strip() == "del self.items[key]"

    g = by_symbol["Cache.fetch_remote"]
    assert lines[g.start_line - 1].strip() == "async def fetch_remote(self, url):"
    assert lines[g.end_line - 1].strip() == "return data"


def test_boilerplate_dunder_stub_and_shared_docstrings_make_no_tasks():
    shared = textwrap.dedent('''\
        def read_config_file(path):
            """Load the settings file from disk and validate it."""
            return open(path).read()
        ''')
    other = shared.replace("read_config_file", "read_settings_file").replace("Load the", "Loads the")
    tasks, _ = _build({"a.py": MODULE, "b.py": shared, "c.py": other})
    symbols = {t.meta["symbol"] for t in tasks}
    assert "Cache.__init__" not in symbols  # dunder
    assert "Cache.size" not in symbols  # "Return self." boilerplate
    assert "Cache.abstract_hook" not in symbols  # only raises NotImplementedError
    assert not symbols & {"read_config_file", "read_settings_file"}  # one sentence, two right answers


def test_strip_all_removes_every_function_docstring_and_keeps_gold_on_the_functions():
    tasks, rewritten = _build({"pkg/mod.py": MODULE}, strip_all=True)
    new = rewritten["pkg/mod.py"]
    ast.parse(new)
    assert "Create an empty cache" not in new and "Return self." not in new  # non-task docstrings too
    assert "An in-memory cache." in new  # class docstrings stay (CodeSearchNet strips functions only)
    lines = new.split("\n")
    for t in tasks:
        g = t.gold[0]
        assert "def " + t.meta["symbol"].split(".")[-1] in "\n".join(lines[g.start_line - 1:g.start_line + 1])


def test_test_files_are_not_mined_for_tasks():
    tasks, _ = _build({"tests/test_mod.py": MODULE, "pkg/test_x.py": MODULE})
    assert tasks == []


def test_sampling_is_deterministic_for_a_seed_and_capped():
    sources = python_sources(corpus_files("json"))
    a, _ = _build(sources, max_tasks=5, seed=1)
    b, _ = _build(sources, max_tasks=5, seed=1)
    c, _ = _build(sources, max_tasks=5, seed=2)
    assert len(a) == 5
    assert [t.id for t in a] == [t.id for t in b]
    assert [t.id for t in a] != [t.id for t in c]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("Return the value, e.g. a number. More text.", "Return the value, e.g. a number"),
        ("Use :func:`~pkg.mod.helper` and ``x`` here.\n\nDetails.", "Use helper and x here"),
        ("First line of the sentence\ncontinues here. Second.", "First line of the sentence continues here"),
    ],
)
def test_first_sentence_stops_at_the_sentence_end_and_drops_markup(doc, expected):
    assert first_sentence(doc) == expected


def test_short_or_code_like_sentences_are_not_meaningful():
    assert not is_meaningful("Return self")
    assert not is_meaningful("Close it")
    assert not is_meaningful(">>> foo(1) == 2 is checked here")
    assert is_meaningful("Drop the least recently used entry")


def test_sync_tree_writes_only_changes_and_removes_extra_files(tmp_path: Path):
    dest = tmp_path / "dest"
    assert sync_tree({"a.py": b"x", "d/b.py": b"y"}, dest) == 2
    mtime = (dest / "a.py").stat().st_mtime_ns
    assert sync_tree({"a.py": b"x", "c.py": b"z"}, dest) == 2  # c written, d/b.py removed
    assert (dest / "a.py").stat().st_mtime_ns == mtime
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["a.py", "c.py"]


# ----- metrics (hand-computed) --------------------------------------------------------------------
class H:
    def __init__(self, path: str, start: int, end: int, kind: str = "function"):
        self.path, self.start_line, self.end_line, self.kind = path, start, end, kind


def test_a_hit_counts_when_its_lines_overlap_the_gold_range_inclusively():
    gold = GoldSpan("a.py", 10, 20)
    assert metrics.overlaps(H("a.py", 20, 30), gold)
    assert metrics.overlaps(H("a.py", 1, 10), gold)
    assert not metrics.overlaps(H("a.py", 21, 30), gold)
    assert not metrics.overlaps(H("b.py", 10, 20), gold)
    assert metrics.overlaps(H("a.py", 500, 501), GoldSpan("a.py"))  # file-level gold


def test_a_signature_only_chunk_counts_only_for_the_definition_it_summarises():
    method, whole_class = GoldSpan("a.py", 30, 40), GoldSpan("a.py", 10, 90)
    collapsed = H("a.py", 10, 90, kind="collapsed")
    assert not metrics.overlaps(collapsed, method)  # shows the signature, not the method's code
    assert metrics.overlaps(collapsed, whole_class)
    assert metrics.overlaps(H("a.py", 10, 90, kind="class"), method)


def test_recall_mrr_and_ndcg_match_hand_computed_values():
    gold = [GoldSpan("a.py", 10, 20), GoldSpan("b.py", 1, 5)]
    hits = [H("c.py", 1, 9), H("a.py", 12, 14), H("a.py", 15, 18), H("b.py", 3, 4), H("d.py", 1, 2)]
    m = metrics.task_metrics(hits, gold, k=10)
    assert m["recall@1"] == 0.0
    assert m["recall@5"] == 1.0
    assert m["recall@10"] == 1.0
    assert m["mrr@10"] == 0.5
    # gains 0,1,0,1 (the second chunk of a.py's function finds nothing new)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg)
    assert metrics.recall_at(hits, gold, 2) == 0.5


def test_metrics_are_zero_when_nothing_relevant_is_returned_and_one_when_the_first_hit_is_right():
    gold = [GoldSpan("a.py", 10, 20)]
    assert metrics.task_metrics([H("z.py", 1, 50)], gold) == {
        "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    assert set(metrics.task_metrics([H("a.py", 5, 10)], gold).values()) == {1.0}
    assert metrics.mrr_at([H("z.py", 1, 2)] * 10 + [H("a.py", 10, 11)], gold, 10) == 0.0  # rank 11 is out


def test_file_level_ranking_keeps_the_first_appearance_of_each_file():
    hits = [H("a.py", 1, 2), H("b.py", 1, 2), H("a.py", 9, 9), H("c.py", 1, 1)]
    assert [f.path for f in metrics.file_ranking(hits)] == ["a.py", "b.py", "c.py"]
    files = metrics.file_ranking(hits)
    gold = metrics.file_gold([GoldSpan("c.py", 5, 6), GoldSpan("c.py", 9, 9)])
    assert len(gold) == 1
    assert metrics.mrr_at(files, gold) == pytest.approx(1 / 3)


def test_tiny_share_counts_hits_under_five_lines_and_percentiles_interpolate():
    hits = [H("a.py", 1, 4), H("a.py", 1, 5), H("a.py", 7, 7), H("a.py", 1, 40)]
    assert metrics.tiny_share(hits) == 0.5
    assert metrics.tiny_share([]) == 0.0
    assert metrics.percentile([4, 1, 3, 2], 50) == 2.5
    assert metrics.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert metrics.first_relevant_rank(hits, [GoldSpan("a.py", 30, 31)]) == 4


# ----- hand-written task files --------------------------------------------------------------------
def test_a_task_file_resolves_symbols_ranges_and_file_level_gold(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "mod.py").write_text(MODULE)
    (repo / "README.md").write_text("# readme\n")
    task_file = tmp_path / "tasks.jsonl"
    task_file.write_text("\n".join([
        "# comments and blank lines are ignored",
        "",
        json.dumps({"query": "evict the oldest entry",
                    "gold": [{"path": "pkg/mod.py", "symbol": "Cache.evict_oldest"}]}),
        json.dumps({"id": "q2", "query": "readme",
                    "gold": [{"path": "README.md", "start_line": 1, "end_line": 1}, {"path": "pkg/mod.py"}]}),
    ]))
    tasks = load_task_file(task_file, repo)
    assert [t.kind for t in tasks] == ["handwritten", "handwritten"]
    start, end = tasks[0].gold[0].start_line, tasks[0].gold[0].end_line
    lines = MODULE.split("\n")
    assert lines[start - 1].strip() == "def evict_oldest(self):"
    assert lines[end - 1].strip() == "del self.items[key]"
    assert tasks[1].id == "q2"
    assert tasks[1].gold == [GoldSpan("README.md", 1, 1), GoldSpan("pkg/mod.py")]
    assert not tasks[1].has_line_gold


@pytest.mark.parametrize("gold", [
    {"path": "missing.py"},
    {"path": "pkg/mod.py", "symbol": "Cache.nope"},
    {"path": "pkg/mod.py", "start_line": 5, "end_line": 2},
])
def test_a_task_file_with_bad_gold_is_a_clear_error_naming_the_line(tmp_path: Path, gold):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "mod.py").write_text(MODULE)
    task_file = tmp_path / "t.jsonl"
    task_file.write_text(json.dumps({"query": "q", "gold": [gold]}) + "\n")
    with pytest.raises(UsageError, match="t.jsonl:1"):
        load_task_file(task_file, repo)


def test_the_shipped_click_task_file_resolves_against_the_installed_click(tmp_path: Path):
    path = Path(__file__).resolve().parents[2] / "eval" / "tasks" / "click.jsonl"
    sync_tree(corpus_files("click"), tmp_path / "click-copy")
    tasks = load_task_file(path, tmp_path / "click-copy")
    assert len(tasks) >= 15
    assert all(g.path.startswith("click/") for t in tasks for g in t.gold)


# ----- git history tasks --------------------------------------------------------------------------
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}


def _commit(repo: Path, files: dict[str, str], message: str, when: int) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(textwrap.dedent(text))
    env = {**GIT_ENV, "GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000"}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True, env=env)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def history_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "hist"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    shas = {}
    shas["init"] = _commit(repo, {
        "src/retry.py": "def retry_delay(attempt):\n    return 1\n",
        "src/cache.py": "class LRUCache:\n    def get(self, key):\n        return None\n",
        "src/parser.py": "def parse_query(text):\n    return text.split()\n",
        "tests/test_retry.py": "def test_delay():\n    assert True\n",
    }, "Initial import", 1_700_000_000)
    shas["retry"] = _commit(repo, {
        "src/retry.py": "def retry_delay(attempt):\n    return 2 ** attempt  # exponential backoff\n",
        "tests/test_retry.py": "def test_delay():\n    assert 1\n",
        "src/backoff_jitter.py": "def jitter():\n    return 0\n",
    }, "fix(retry): use exponential retry delay between attempts (#12)", 1_700_000_100)
    shas["bump"] = _commit(repo, {"src/parser.py": "def parse_query(text):\n    return text.split(' ')\n"},
                           "Bump version to 1.2.0", 1_700_000_200)
    shas["cache"] = _commit(repo, {
        "src/cache.py": "class LRUCache:\n    def get(self, key):\n        return self.items.get(key)\n",
        "src/parser.py": "def parse_query(text):\n    return text.lower().split()\n",
    }, "Add cache lookup and lowercase query parsing", 1_700_000_300)
    shas["docs"] = _commit(repo, {"README.md": "# docs\n"}, "Add docs for the cache", 1_700_000_400)
    return repo, shas


def test_git_tasks_use_fix_and_feature_commits_with_their_non_test_source_files_as_gold(history_repo):
    repo, shas = history_repo
    tasks = build_git_tasks(repo, max_tasks=10)
    assert [t.meta["commit"] for t in tasks] == [shas["retry"], shas["cache"]]  # oldest first, noise skipped
    retry, cache = tasks
    assert retry.query == "use exponential retry delay between attempts"
    assert retry.gold == [GoldSpan("src/retry.py")]  # not the test, not the file the commit added
    assert retry.meta["parent"] == shas["init"]
    assert sorted(g.path for g in cache.gold) == ["src/cache.py", "src/parser.py"]
    assert cache.meta["parent"] == shas["bump"]


def test_the_corpus_of_a_git_task_is_its_parent_tree(history_repo):
    repo, shas = history_repo
    before = tree_files(repo, shas["init"])
    assert before["src/retry.py"] == b"def retry_delay(attempt):\n    return 1\n"
    assert "src/backoff_jitter.py" not in before
    assert "README.md" not in tree_files(repo, shas["cache"])


def test_git_subject_cleanup_and_source_file_rules():
    assert clean_subject("feat(cli)!: add --json flag [skip ci] (#123)") == "add --json flag"
    assert clean_subject("Fix crash on empty input. Fixes #9") == "Fix crash on empty input. Fixes"
    assert is_source_path("src/pkg/core.py")
    assert not is_source_path("tests/test_core.py")
    assert not is_source_path("src/core_test.go")
    assert not is_source_path("web/app.spec.ts")
    assert not is_source_path("docs/index.md")


def test_git_tasks_need_a_git_work_tree(tmp_path: Path):
    with pytest.raises(UsageError, match="git"):
        build_git_tasks(tmp_path, max_tasks=5)


# ----- whole runs with the fast hashing embedder ----------------------------------------------------
def test_a_docstring_eval_indexes_the_stripped_copy_and_scores_every_mode(tmp_path: Path, ragpilot_home):
    corpus = tmp_path / "corpus"
    (corpus / "pkg").mkdir(parents=True)
    (corpus / "pkg" / "mod.py").write_text(MODULE)
    (corpus / "pkg" / "other.py").write_text(textwrap.dedent('''\
        def render_progress_bar(done, total):
            """Draw a text progress bar showing how much work is done."""
            width = 40
            filled = int(width * done / total)
            return "#" * filled + "-" * (width - filled)
        '''))
    result = eval_docstrings(str(corpus), Engine("hashing"), eval_config(tmp_path))
    assert result["kind"] == "docstring" and result["n_tasks"] == 4
    assert_sane(result)
    # the index holds the stripped copy: no chunk can contain a removed docstring
    src = next((tmp_path / "work").glob("corpus-hashing-*/src"))
    assert "Draw a text progress bar" not in (src / "pkg" / "other.py").read_text()
    # lexical search finds the progress bar function from words its body shares with the query
    rec = next(r for r in result["tasks"] if r["meta"]["symbol"] == "render_progress_bar")
    assert rec["modes"]["lexical"]["file"]["recall@10"] == 1.0
    assert result["verdict"]["level"] == "chunk"


def test_a_second_run_reuses_the_index_and_embeds_nothing(tmp_path: Path, ragpilot_home):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mod.py").write_text(MODULE)
    cfg = eval_config(tmp_path)
    eval_docstrings(str(corpus), Engine("hashing"), cfg)
    again = eval_docstrings(str(corpus), Engine("hashing"), cfg)
    assert again["index"]["chunks_embedded"] == 0
    assert again["index"]["files_indexed"] == 0


def test_a_hand_written_task_file_is_evaluated_against_the_repo_in_place(tmp_path: Path, sample_repo,
                                                                         ragpilot_home):
    task_file = tmp_path / "q.jsonl"
    task_file.write_text("\n".join(json.dumps(t) for t in [
        {"query": "should retry server errors",
         "gold": [{"path": "src/http/retry.py", "symbol": "RetryPolicy.should_retry"}]},
        {"query": "evict oldest cache entry",
         "gold": [{"path": "src/storage/cache.go", "start_line": 15, "end_line": 21}]},
        {"query": "installing and configuring the database", "gold": [{"path": "docs/guide.md"}]},
    ]))
    result = eval_task_file(task_file, Engine("hashing"), eval_config(tmp_path), repo=sample_repo)
    assert result["kind"] == "handwritten" and result["n_tasks"] == 3
    assert_sane(result)
    # chunk-level metrics only count tasks with line ranges; file-level counts all of them
    assert result["modes"]["hybrid"]["n_chunk"] == 2 and result["modes"]["hybrid"]["n_file"] == 3
    lexical = {r["id"]: r["modes"]["lexical"] for r in result["tasks"]}
    assert all(run["file"]["recall@10"] == 1.0 for run in lexical.values())
    assert not list(sample_repo.rglob("*.lance"))  # the index lives in the work dir, not the repo


def test_a_git_eval_searches_each_commit_in_its_parent_tree(tmp_path: Path, history_repo, ragpilot_home):
    repo, shas = history_repo
    result = eval_git(repo, Engine("hashing"), eval_config(tmp_path))
    assert result["kind"] == "git" and result["n_tasks"] == 2
    assert_sane(result, levels=("file",))
    for agg in result["modes"].values():
        assert agg["chunk"] is None and agg["n_chunk"] == 0  # file-level gold only
    retry = next(r for r in result["tasks"] if r["meta"]["commit"] == shas["retry"])
    cache = next(r for r in result["tasks"] if r["meta"]["commit"] == shas["cache"])
    # the retry commit added backoff_jitter.py: its parent tree has no such file, the later one does
    hits_of = lambda rec: [h for run in rec["modes"].values() for h in run["hits"]]  # noqa: E731
    assert not any(h.startswith("src/backoff_jitter.py") for h in hits_of(retry))
    assert any(h.startswith("src/backoff_jitter.py") for h in hits_of(cache))
    assert retry["modes"]["lexical"]["file"]["recall@10"] == 1.0  # "retry delay" names retry_delay


def test_rerank_modes_run_on_the_first_tasks_only_and_are_compared_on_that_subset(tmp_path, ragpilot_home):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mod.py").write_text(MODULE)
    engine = Engine("hashing", reranker=_FirstWinsReranker())
    cfg = eval_config(tmp_path, modes=("lexical", "hybrid", "hybrid+rerank"), rerank_queries=1)
    result = eval_docstrings(str(corpus), engine, cfg)
    assert result["modes"]["hybrid+rerank"]["n"] == 1
    assert result["modes"]["hybrid"]["n"] == result["n_tasks"] == 3
    subset = result["same_subset"]["hybrid+rerank"]
    assert {m: a["n"] for m, a in subset.items()} == {"lexical": 1, "hybrid": 1, "hybrid+rerank": 1}


class _FirstWinsReranker(Reranker):
    """Keeps the fused order: enough to exercise the rerank plumbing without a model."""

    id = "first-wins"

    def score(self, query, passages):
        return [-float(i) for i in range(len(passages))]


# ----- the command line ---------------------------------------------------------------------------
def test_the_cli_writes_json_and_prints_a_table(tmp_path: Path, ragpilot_home, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mod.py").write_text(MODULE)
    out = tmp_path / "res" / "{corpus}.json"
    code = eval_main(["--repo", str(corpus), "--embedder", "hashing", "--modes", "lexical,dense,hybrid",
                      "--work-dir", str(tmp_path / "work"), "--out", str(out)])
    assert code == 0
    data = json.loads((tmp_path / "res" / "corpus.json").read_text())
    assert data["n_tasks"] == 3 and set(data["modes"]) == set(FAST_MODES)
    assert len(data["tasks"]) == 3
    printed = capsys.readouterr().out
    assert "R@10" in printed and "hybrid" in printed


def test_the_cli_rejects_an_unknown_mode_in_one_line(capsys):
    assert eval_main(["--modes", "lexical,fuzzy"]) == 2
    assert "unknown mode 'fuzzy'" in capsys.readouterr().err


def test_modes_parse_rerank_and_fusion_options():
    assert parse_mode("hybrid+rerank") == ("hybrid", True, {})
    base, rerank, options = parse_mode("hybrid@k=20:wl=0.5:mpf=2")
    assert (base, rerank) == ("hybrid", False)
    assert searcher_options(options) == {"rrf_k": 20, "max_per_file": 2, "weights": (0.5, 1.0)}
    boosts = searcher_options(parse_mode("lexical@bc=0:bs=3")[2])["boosts"]
    assert boosts["fts_context"] == 0 and boosts["fts_symbol"] == 3 and boosts["fts_body"] == 1.0
    for bad in ("fuzzy", "hybrid+boost", "hybrid@x=1", "hybrid@k=abc"):
        with pytest.raises(ValueError):
            parse_mode(bad)


def test_the_files_mode_parses_without_rerank_and_searches_one_hit_per_file(sample_repo, tmp_path: Path,
                                                                            ragpilot_home):
    assert parse_mode("files") == ("files", False, {})
    with pytest.raises(ValueError):
        parse_mode("files+rerank")
    engine = Engine("hashing")
    engine.index(sample_repo, tmp_path / "idx")
    searcher = engine.searcher(tmp_path / "idx", "files")
    hits = engine.search(searcher, "LRUCache", mode="files", k=3)
    assert len(hits) == 3 and len({h.path for h in hits}) == 3
    assert [(h.path, h.score) for h in hits] == [(f.path, f.score) for f in searcher.search_files("LRUCache", k=3)]


def test_ragpilot_eval_is_the_same_command():
    import click

    from ragpilot.eval.cli import eval_cmd
    from ragpilot.serve.cli import cli

    with click.Context(cli) as ctx:
        assert cli.get_command(ctx, "eval") is eval_cmd and eval_cmd.name == "eval"


# ----- the real thing ----------------------------------------------------------------------------
