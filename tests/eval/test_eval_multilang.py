"""The multi-language eval: doc-comment task builders, leak filtering, the tune/confirm split, the BM25
baselines and their matching rule, pinned corpora read from a bare mirror, and one end-to-end run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ragpilot.eval import metrics
from ragpilot.eval.baselines import SpanHit, code_tokens, file_index, window_index, windows
from ragpilot.eval.doccomments import find_doc_candidates
from ragpilot.eval.doctasks import build_doc_tasks, split_of
from ragpilot.eval.engine import Engine, parse_mode
from ragpilot.eval.git_tasks import recent_git_tasks
from ragpilot.eval.multilang import eval_pinned, run_baselines
from ragpilot.eval.pinned import PinnedCorpus, mirror_status, select
from ragpilot.eval.runner import EvalConfig
from ragpilot.eval.tasks import GoldSpan, Task

GO = '''package demo

// ParseDuration reads a human duration string like 3h20m into seconds.
func ParseDuration(s string) int {
	return len(s)
}

//go:noinline
func helper() {}

// Short doc.
func tiny() int { return 1 }
'''

RUST = '''/// Compute the checksum of every block in the archive.
#[inline]
pub fn checksum(data: &[u8]) -> u32 {
    data.len() as u32
}

impl Archive {
    /// Open an archive stored at the given filesystem path.
    pub fn open(path: &str) -> Self {
        Archive {}
    }
}
'''

JAVA = '''class Store {
    /**
     * Returns the {@link Entry} stored under the given key, or null.
     *
     * @param key the key
     */
    @Override
    public Entry get(String key) {
        return map.get(key);
    }

    /** Declared only: no body to find. */
    abstract void close();
}
'''

TS = '''/**
 * Merges two configuration objects, later keys winning over earlier ones.
 * @param a first
 */
export function mergeConfig(a: object, b: object): object {
  return { ...a, ...b };
}
'''

JS = '''/**
 * Send a JSON response with the given status code.
 * @public
 */

res.json = function json(obj) {
  return this.send(JSON.stringify(obj));
};
'''

C = '''/* Render the number nicely from the given item into a string. */
static int print_number(const item *i, buffer *out)
{
    return 0;
}

/**
 * @brief Free every node of the linked list starting at head.
 */
void list_free(node *head) { }
'''

CPP = '''namespace fmt {
/// Formats the arguments and writes the output to the given file.
template <typename... T> void print(FILE* f, T&&... args) {
  write(f, args...);
}
}
'''


@pytest.mark.parametrize("language,source,expected", [
    ("go", GO, {"ParseDuration reads a human duration string like 3h20m into seconds", "Short doc"}),
    ("rust", RUST, {"Compute the checksum of every block in the archive",
                    "Open an archive stored at the given filesystem path"}),
    ("java", JAVA, {"Returns the Entry stored under the given key, or null"}),
    ("typescript", TS, {"Merges two configuration objects, later keys winning over earlier ones"}),
    ("javascript", JS, {"Send a JSON response with the given status code"}),
    ("c", C, {"Render the number nicely from the given item into a string",
              "Free every node of the linked list starting at head"}),
    ("cpp", CPP, {"Formats the arguments and writes the output to the given file"}),
])
def test_each_language_finds_documented_functions_and_their_first_sentence(language, source, expected):
    found, _ = find_doc_candidates(f"f.{language}", source, language)
    assert {c.sentence for c in found} == expected


def test_a_doc_comment_range_covers_the_comment_and_the_gold_covers_the_function():
    found, _ = find_doc_candidates("a.rs", RUST, "rust")
    check = next(c for c in found if c.qualname == "checksum")
    assert (check.doc_start, check.doc_end) == (1, 1)  # the attribute below stays
    assert (check.start_line, check.end_line) == (3, 5)
    java = find_doc_candidates("S.java", JAVA, "java")[0][0]
    assert (java.doc_start, java.doc_end) == (2, 6) and java.start_line == 7


def test_directives_and_declarations_without_a_body_are_not_tasks():
    go, _ = find_doc_candidates("d.go", GO, "go")
    assert "helper" not in {c.qualname for c in go}  # //go:noinline is no doc
    java, _ = find_doc_candidates("S.java", JAVA, "java")
    assert [c.qualname for c in java] == ["get"]  # the abstract method has nothing to find


def _go_repo(extra: dict[str, str] | None = None) -> dict[str, str]:
    files = {
        "dur.go": GO,
        "route.go": ('package demo\n\n// Mount attaches a sub-router under the given path prefix.\n'
                     'func Mount(p string) {\n\tprintln(p)\n}\n'),
        "route_test.go": ('package demo\n\n// TestMount checks that mounting a router keeps every route.\n'
                          'func TestMount() {\n\tMount("/x")\n}\n'),
    }
    files.update(extra or {})
    return files


def test_only_the_queried_docs_are_blanked_and_the_gold_follows_the_shorter_file():
    sources = _go_repo()
    tasks, rewritten, stats = build_doc_tasks(sources, max_tasks=1, seed=0)
    assert len(tasks) == 1 and stats.eligible == 2  # "Short doc" is trivial, the test file is skipped
    task = tasks[0]
    path = task.gold[0].path
    other = "route.go" if path == "dur.go" else "dur.go"
    assert task.query not in rewritten[path]  # the doc's lines are gone...
    assert other not in rewritten  # ...and the other function keeps its doc
    lines = rewritten[path].split("\n")
    assert lines[task.gold[0].start_line - 1].startswith("func ")
    assert lines[task.gold[0].end_line - 1] == "}"


def test_a_query_whose_text_appears_elsewhere_in_the_tree_is_dropped():
    readme = "# demo\n\nMount attaches a sub-router under the given path prefix, see route.go.\n"
    tasks, _, stats = build_doc_tasks(_go_repo({"README.md": readme}), max_tasks=10, seed=0)
    assert [t.gold[0].path for t in tasks] == ["dur.go"]
    assert stats.leaked == 1


def test_the_split_is_a_fixed_function_of_the_task_id():
    ids = [f"pkg/file{i}.go::Func{i}:{i}" for i in range(400)]
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]
    share = sum(split_of(i) == "tune" for i in ids) / len(ids)
    assert 0.4 < share < 0.6
    one, _, _ = build_doc_tasks(_go_repo(), max_tasks=1, seed=0)
    both, _, _ = build_doc_tasks(_go_repo(), max_tasks=2, seed=0)
    same = next(t for t in both if t.id == one[0].id)
    assert same.meta["split"] == one[0].meta["split"] == split_of(one[0].id)


def test_code_tokens_split_camel_and_snake_case_and_keep_the_whole_word():
    assert code_tokens("getUserName(max_retries, HTTPServer2)") == [
        "get", "user", "name", "getusername", "max", "retries", "http", "server", "2", "httpserver2"]


def test_a_window_hit_counts_exactly_when_the_ragpilot_rule_says_it_overlaps():
    text = "\n".join(f"line {i}" for i in range(1, 101)) + "\n"
    spans = [w for w, _ in windows("a.go", text)]
    assert [(s.start_line, s.end_line) for s in spans] == [(1, 40), (41, 80), (81, 100)]
    second = spans[1]
    assert metrics.overlaps(second, GoldSpan("a.go", 78, 90))
    assert metrics.overlaps(second, GoldSpan("a.go", 80, 80))
    assert not metrics.overlaps(second, GoldSpan("a.go", 81, 90))
    assert not metrics.overlaps(second, GoldSpan("b.go", 41, 80))


def test_baselines_are_scored_like_ragpilot_and_the_file_baseline_only_at_file_level():
    files = {"a.go": "\n".join(["// filler"] * 45 + ["func parseDuration() {}"] + ["x"] * 10),
             "b.go": "func other() {}\n"}
    task = Task("t", "parse duration", [GoldSpan("a.go", 46, 46)], "docstring")
    record = {"id": "t", "modes": {}}
    run_baselines([record], [task], {"bm25-window40": window_index(files), "bm25-file": file_index(files)}, k=10)
    win = record["modes"]["bm25-window40"]
    assert win["hits"][0] == "a.go:41-56" and win["chunk"]["recall@1"] == 1.0
    assert record["modes"]["bm25-file"]["chunk"] is None
    assert record["modes"]["bm25-file"]["file"]["recall@1"] == 1.0


def test_a_search_with_no_known_word_returns_nothing():
    assert window_index({"a.go": "func f() {}\n"}).search("zebra quantum") == []
    assert isinstance(window_index({"a.go": "func f() {}\n"}).search("f")[0], SpanHit)


def test_corpora_are_selected_by_name_language_or_all_and_large_ones_only_on_request():
    registry = [PinnedCorpus("a", "go", "o/a", "0" * 40), PinnedCorpus("b", "rust", "o/b", "0" * 40),
                PinnedCorpus("big", "go", "o/big", "0" * 40, large=True)]
    assert [c.name for c in select("all", registry=registry)] == ["a", "b"]
    assert [c.name for c in select("go", registry=registry)] == ["a"]
    assert [c.name for c in select("go", large=True, registry=registry)] == ["a", "big"]
    assert [c.name for c in select("big,rs", registry=registry)] == ["big", "b"]


def test_the_default_registry_covers_seven_languages_and_a_large_corpus():
    registry = select("all", large=True)
    assert len([c for c in registry if not c.large]) >= 10
    assert {"python", "go", "typescript", "javascript", "rust", "java"} <= {c.language for c in registry}
    assert {"c", "cpp"} & {c.language for c in registry}
    assert any(c.large for c in registry)
    assert all(len(c.commit) == 40 for c in registry)


def test_a_missing_mirror_names_the_exact_fetch_and_the_corpus_is_skipped(tmp_path: Path):
    corpus = PinnedCorpus("chi", "go", "go-chi/chi", "0" * 40)
    assert "fetch github:go-chi/chi" in mirror_status(corpus, tmp_path)
    notes: list[str] = []
    cfg = EvalConfig(modes=["lexical"], work_dir=tmp_path / "w", notify=notes.append)
    assert eval_pinned(corpus, Engine("hashing"), cfg, mirrors=tmp_path) is None
    assert any("fetch github:go-chi/chi" in n for n in notes)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin",
                               "HOME": str(cwd)}).stdout.strip()


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, str]:
    """A bare mirror ``o+demo/repo`` of a small Go repository with a few fix/feature commits."""
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    for rel, text in _go_repo().items():
        (work / rel).write_text(text)
    (work / "docs").mkdir()
    (work / "docs" / "guide.txt").write_text("not indexed\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "initial import")
    (work / "dur.go").write_text(GO.replace("len(s)", "len(s) * 2"))
    _git(work, "commit", "-qam", "fix: handle hours in duration parsing")
    (work / "route.go").write_text((work / "route.go").read_text() + "\nfunc extra() {}\n")
    _git(work, "commit", "-qam", "add support for mounting routers twice")
    (work / "docs" / "guide.txt").write_text("changed\n")
    _git(work, "commit", "-qam", "fix the docs folder that nobody indexes")
    head = _git(work, "rev-parse", "HEAD")
    mirrors = tmp_path / "mirrors"
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(mirrors / "o+demo" / "repo"))
    return mirrors, head


def test_git_tasks_walk_back_from_the_pin_on_a_bare_mirror(mirror):
    mirrors, head = mirror
    tasks = recent_git_tasks(mirrors / "o+demo" / "repo", head, n=5,
                             wants=lambda rel: not rel.startswith("docs/"))
    assert [t.query for t in tasks] == ["handle hours in duration parsing",
                                        "add support for mounting routers twice"]
    assert [g.path for g in tasks[1].gold] == ["route.go"]


def test_a_pinned_corpus_runs_every_method_on_both_kinds_of_task(mirror, tmp_path: Path, ragpilot_home):
    mirrors, head = mirror
    corpus = PinnedCorpus("demo", "go", "o/demo", head, exclude=("*_test.go", "docs/*"))
    cfg = EvalConfig(modes=["lexical", "dense", "hybrid"], work_dir=tmp_path / "w")
    result = eval_pinned(corpus, Engine("hashing"), cfg, mirrors=mirrors, doc_tasks=5, git_tasks=5)
    doc, git = result["docstring"], result["git"]
    methods = {"bm25-window40", "bm25-file", "lexical", "dense", "hybrid"}
    assert set(doc["modes"]) == methods and set(git["modes"]) == methods
    assert doc["n_tasks"] == 2 and git["n_tasks"] == 2
    assert sum(doc["splits"][s]["n"] for s in ("tune", "confirm")) == 2
    assert doc["modes"]["bm25-file"]["chunk"] is None and doc["modes"]["hybrid"]["chunk"] is not None
    indexed = {p.relative_to(tmp_path / "w").parts[1:] for p in (tmp_path / "w").rglob("*.go")}
    assert not any(part[-1].endswith("_test.go") for part in indexed)


def test_with_tests_adds_the_test_files_and_keeps_the_other_excludes():
    from dataclasses import replace

    corpus = PinnedCorpus("chi", "go", "go-chi/chi", "0" * 40, source=("lib",),
                          exclude=("*_test.go", "lib/_examples/*"), tests=("test",))
    plain, both = corpus, replace(corpus, with_tests=True)
    assert plain.wants("lib/mux.go")
    assert not plain.wants("lib/mux_test.go") and not plain.wants("test/helpers_test.go")
    assert both.wants("lib/mux_test.go") and both.wants("test/helpers_test.go") and both.wants("lib/mux.go")
    assert not both.wants("lib/_examples/hello/main.go")  # not a test pattern: still excluded
    assert not both.wants("docs/guide_test.go")  # neither under the sources nor under the tests
    assert plain.work_label != both.work_label  # separate indexes
    assert parse_mode("hybrid@tf=0.25:sb=2:fu=1")[2] == {"test_factor": 0.25, "sources_best": 2, "fusion": 1}
    with pytest.raises(ValueError):
        parse_mode("hybrid@fu=7")
