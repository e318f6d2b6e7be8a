"""Which chunks to embed first while an index is being filled in (search first, embed after).

Until every row has its vector, dense search only sees the embedded ones; embedding a 100k-chunk tree
takes over an hour on two cores, so the order decides what hybrid search is good at during that hour.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

SOURCE, TESTS, DOCS, GENERATED = 0, 1, 2, 3

_DOC_SUFFIXES = {".md", ".markdown", ".rst", ".txt", ".adoc", ".org", ".tex", ".ipynb"}
_DOC_DIRS = {"docs", "doc", "documentation", "examples", "example", "samples"}
_TEST_DIRS = {"test", "tests", "testing", "__tests__", "spec", "specs", "e2e", "testdata", "fixtures"}
_TEST_NAME = re.compile(r"(^test_|_test\.|\.test\.|\.spec\.|_spec\.|Test\.|Tests\.|^conftest\.py$)")
_GENERATED_DIRS = {"vendor", "third_party", "thirdparty", "node_modules", "dist", "build", "generated",
                   "gen", "target", "out", "__generated__", "migrations", ".yarn"}
_GENERATED_NAME = re.compile(
    r"(\.min\.(js|css)$|_pb2(_grpc)?\.pyi?$|\.pb\.go$|\.pb\.(cc|h)$|_generated\.|\.generated\.|\.g\.dart$|"
    r"\.designer\.cs$|\.map$|\.lock$|^package-lock\.json$|^pnpm-lock\.yaml$|^go\.sum$|\.snap$|\.d\.ts$)"
)


def embed_priority(path: str) -> int:
    """Lower embeds sooner: source (0), then tests (1), docs (2), generated-looking files (3).

    Why this order: questions to a code assistant are mostly about the code itself, and an unembedded
    row is still found by its words (lexical search covers every row from the start). Tests restate the
    source's names, so lexical search finds them well; prose docs are word-rich and lexical finds them
    too; generated, vendored and minified files are rarely what anyone asks about and their words are
    repetitive, so they wait until last. Purely from the path: no file is read to decide.
    """
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else path
    dirs = {p.lower() for p in parts[:-1]}
    if dirs & _GENERATED_DIRS or _GENERATED_NAME.search(name):
        return GENERATED
    if dirs & _TEST_DIRS or _TEST_NAME.search(name):
        return TESTS
    if PurePosixPath(name).suffix.lower() in _DOC_SUFFIXES or dirs & _DOC_DIRS:
        return DOCS
    return SOURCE


__all__ = ["embed_priority", "SOURCE", "TESTS", "DOCS", "GENERATED"]
