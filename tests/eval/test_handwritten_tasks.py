"""The hand-written question files of the non-Python pinned corpora: well formed, enough of them, mostly
phrased without the answer's name, and every gold range real in the pinned tree (read from the mirror)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from ragpilot.eval.pinned import mirrors_root, select
from ragpilot.eval.questions import TASKS_DIR

CORPORA = ("chi", "zod", "serde")


def _tasks(name: str) -> list[dict]:
    lines = (TASKS_DIR / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _pinned_text(name: str, rel: str) -> str:
    corpus = select(name)[0]
    gitdir = corpus.mirror_dir(mirrors_root())
    if not gitdir.is_dir():
        pytest.skip(f"no mirror of {corpus.repo} at {gitdir} (get it with `{corpus.fetch_hint}`)")
    return subprocess.run(["git", "--git-dir", str(gitdir), "show", f"{corpus.commit}:{rel}"],
                          check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("name", CORPORA)
def test_every_line_is_a_task_with_an_id_a_query_and_ranged_gold(name):
    tasks = _tasks(name)
    assert len({t["id"] for t in tasks}) == len(tasks)
    for t in tasks:
        assert t["query"].strip() and t["gold"], t
        for g in t["gold"]:
            assert set(g) == {"path", "start_line", "end_line"}, t["id"]
            assert 1 <= g["start_line"] <= g["end_line"], t["id"]


def test_three_non_python_corpora_have_at_least_twenty_questions_and_eight_each():
    counts = {name: len(_tasks(name)) for name in CORPORA}
    assert {select(n)[0].language for n in CORPORA} == {"go", "typescript", "rust"}
    assert sum(counts.values()) >= 20 and min(counts.values()) >= 8, counts


_DEFINED = re.compile(r"\b(?:func(?:\s*\([^)]*\))?|function|const|fn|struct|enum|type|for)\s+([\w$]+(?:::[\w$]+)*)")


def _defined_name(line: str) -> str | None:
    """The name a definition line introduces (``func (x *T) Name(`` -> Name, ``impl X for a::B`` -> B)."""
    found = _DEFINED.search(line)
    return found.group(1).split("::")[-1] if found else None


_LEADING = ("//", "/*", "*", "#[", "@")  # doc comments, Rust attributes, TS decorators


def _first_definition(lines: list[str]) -> str | None:
    """The name defined by the first line of a gold range that is not part of its doc comment."""
    return next((n for line in lines if not line.strip().startswith(_LEADING) and (n := _defined_name(line))),
                None)


@pytest.mark.parametrize("name", CORPORA)
def test_at_least_half_of_the_questions_do_not_name_the_definition_they_ask_for(name):
    tasks = _tasks(name)
    named = 0
    for t in tasks:
        golds = [_first_definition(_pinned_text(name, g["path"]).splitlines()[g["start_line"] - 1:g["end_line"]])
                 for g in t["gold"]]
        if any(n and re.search(rf"(?i)\b{re.escape(n)}\b", t["query"]) for n in golds):
            named += 1
    assert named <= len(tasks) / 2, f"{named} of {len(tasks)} questions name their answer"


@pytest.mark.parametrize("name", CORPORA)
def test_every_gold_range_is_a_whole_definition_with_its_doc_comment_in_the_indexed_pinned_tree(name):
    corpus = select(name)[0]
    for t in _tasks(name):
        for g in t["gold"]:
            assert corpus.wants(g["path"]), f"{t['id']}: {g['path']} is not in the indexed tree"
            lines = _pinned_text(name, g["path"]).splitlines()
            assert g["end_line"] <= len(lines), f"{t['id']}: {g['path']} has {len(lines)} lines"
            first, last = lines[g["start_line"] - 1], lines[g["end_line"] - 1]
            assert first.strip() and last.strip(), f"{t['id']}: range starts or ends on a blank line"
            before = lines[g["start_line"] - 2].strip() if g["start_line"] > 1 else ""
            assert not before.startswith(_LEADING), f"{t['id']}: the doc comment above line {g['start_line']} is cut"


def test_the_defined_name_reader_handles_go_receivers_ts_exports_and_rust_impls():
    assert _defined_name("func (mx *Mux) Mount(pattern string, handler http.Handler) {") == "Mount"
    assert _defined_name("func Throttle(limit int) func(http.Handler) http.Handler {") == "Throttle"
    assert _defined_name("export function toDotPath(_path: readonly string[]): string {") == "toDotPath"
    assert _defined_name("export const $ZodDefault: core.$constructor<$ZodDefault> = (") == "$ZodDefault"
    assert _defined_name("impl Serialize for net::Ipv4Addr {") == "Ipv4Addr"
    assert _defined_name("pub(super) fn deserialize(") == "deserialize"
    assert _defined_name("/** Practical email validation */") is None
