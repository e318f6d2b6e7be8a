"""The sample repository every layer's tests index: a few small files in four languages (a helper, not
a test file; conftest.py's sample_repo fixture writes it, and tests that build variants import it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

SAMPLE_FILES = {
    "src/http/retry.py": '''
        """Retry policies for the HTTP client."""

        import time


        class RetryPolicy:
            """Decides whether a failed request is retried and how long to wait."""

            def __init__(self, attempts: int = 3, backoff: float = 0.5):
                self.attempts = attempts
                self.backoff = backoff

            def should_retry(self, status_code: int, attempt: int) -> bool:
                """Retry server errors and throttling until the attempts run out."""
                return attempt < self.attempts and (status_code >= 500 or status_code == 429)

            def delay(self, attempt: int) -> float:
                """Exponential backoff between attempts."""
                return self.backoff * (2 ** attempt)


        def sleep_before_retry(policy: RetryPolicy, attempt: int) -> None:
            time.sleep(policy.delay(attempt))
        ''',
    "src/storage/cache.go": '''
        package storage

        // LRUCache keeps the most recently used entries in memory.
        type LRUCache struct {
            capacity int
            items    map[string]string
        }

        // Get returns the cached value for key.
        func (c *LRUCache) Get(key string) (string, bool) {
            v, ok := c.items[key]
            return v, ok
        }

        // EvictOldest drops the least recently used entry when the cache is full.
        func (c *LRUCache) EvictOldest() {
            for k := range c.items {
                delete(c.items, k)
                return
            }
        }
        ''',
    "web/parseQuery.ts": '''
        export interface QueryOptions {
          caseSensitive: boolean;
        }

        export function parseSearchQuery(raw: string, opts: QueryOptions): string[] {
          const text = opts.caseSensitive ? raw : raw.toLowerCase();
          return text.split(/\\s+/).filter((t) => t.length > 0);
        }
        ''',
    "docs/guide.md": '''
        # Guide

        Intro text for the project.

        ## Installing

        Run the installer and configure the database connection string.

        ## Troubleshooting

        If the connection times out, raise the timeout in settings.
        ''',
}


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
