"""Breadth-first excerpts: one per file, the best files' best place whole, the others' first lines."""

from __future__ import annotations

from ragpilot.retrieval.breadth import LEAD_FILES, excerpt, file_excerpts
from ragpilot.retrieval.hits import FileHit, Hit


def hit(path: str, start: int, n_lines: int, *, kind: str = "function") -> Hit:
    content = "\n".join(f"line {start + i} of {path}" for i in range(n_lines))
    return Hit(path, start, start + n_lines - 1, 1.0, f"sym_{path}", "python", content, kind)


def test_an_excerpt_keeps_the_first_lines_and_cites_exactly_those_lines():
    piece = excerpt(hit("a.py", 10, 30), 8)
    assert (piece.start_line, piece.end_line) == (10, 17)
    assert piece.text.split("\n") == [f"line {n} of a.py" for n in range(10, 18)]
    whole = excerpt(hit("a.py", 10, 5), 8)
    assert (whole.start_line, whole.end_line, whole.text.count("\n")) == (10, 14, 4)


def test_a_collapsed_chunk_keeps_its_first_lines_cited_by_its_whole_range():
    skeleton = Hit("c.py", 1, 200, 1.0, "Big", "python", "class Big:\n    def a(self): ...\n    def b(self): ...",
                   "collapsed")
    piece = excerpt(skeleton, 2)
    assert (piece.start_line, piece.end_line) == (1, 200)  # its lines are not the file's lines 1-2
    assert piece.text == "class Big:\n    def a(self): ..."


def test_each_file_gives_one_excerpt_in_file_order_the_lead_files_longer():
    files = [FileHit(f"f{i}.py", 1.0 - i / 10, "python", (hit(f"f{i}.py", 1, 50), hit(f"f{i}.py", 60, 50)))
             for i in range(5)] + [FileHit("empty.py", 0.1, "python", ())]
    pieces = file_excerpts(files, lines=3, lead_lines=20)
    assert [p.path for p in pieces] == [f"f{i}.py" for i in range(5)]
    assert [p.end_line - p.start_line + 1 for p in pieces] == [20] * LEAD_FILES + [3] * (5 - LEAD_FILES)
    assert [p.score for p in pieces] == [f.score for f in files[:5]]  # ranked as file search ranked them
