"""Everything under tests/e2e is slow: each test starts a subprocess (the ragpilot CLI, uvicorn,
llama_cpp.server, an MCP stdio server, a kill -9) or loads a real model (MiniLM, SmolLM2 GGUF, the
cross-encoder), or fuzzes the HTTP API for ~15 s (test_api_fuzzing.py). Marking by folder keeps
`pytest -m "not slow"` a quick, in-process loop."""

from __future__ import annotations

from pathlib import Path

import pytest

E2E = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
