"""A query and two passages for the reranker tests (this module holds no tests): one answers the query,
one does not share its subject."""

from __future__ import annotations

from ragpilot.retrieval.hits import Hit

QUERY = "how long to wait before retrying a failed request"
RELEVANT = (
    "def delay(self, attempt: int) -> float:\n"
    '    """Seconds to wait before retrying a failed request: exponential backoff."""\n'
    "    return self.backoff * (2 ** attempt)"
)
IRRELEVANT = (
    "func (c *LRUCache) Get(key string) (string, bool) {\n"
    "    v, ok := c.items[key]\n"
    "    return v, ok\n"
    "}"
)


def hit(content: str, path: str = "x.py", start: int = 1) -> Hit:
    return Hit(path=path, start_line=start, end_line=start + content.count("\n"), score=0.0, symbol="",
               language="python", content=content, chunk_id=f"{path}:{start}")
