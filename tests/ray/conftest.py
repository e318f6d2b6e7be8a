"""The Ray engine's tests share ONE local Ray cluster of two CPUs for the session (starting Ray takes
seconds); each test indexes a real repository with real LanceDB and real tree-sitter on it. Everything
here is slow (real Ray workers, subprocesses): `pytest -m "not slow"` leaves the folder out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from planted_secrets import REDACTED_FILES, SKIPPED_FILES
from samples import SAMPLE_FILES, write_files

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def ray_cluster():
    """``ray.init(num_cpus=2)`` once; the engine's ``connect`` then reuses this session."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    import ray

    from ragpilot.indexer.ray_engine import connect

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    connect()
    yield ray
    ray.shutdown()


def module_source(i: int) -> str:
    """A Python module of a few functions of varied size: several chunks each."""
    parts = [f'"""Module {i}: helpers for batch {i % 5}."""\n']
    for f in range(4):
        body = "\n".join(f"    total += values[{k}] * {i + k} - weights_{f}[{k}]  # step {k} of {f}"
                          for k in range((i + f) % 9 + 12))
        parts.append(f"def scale_{i}_{f}(values, weights_{f}):\n"
                     f'    """Scale the values of batch {i}, pass {f}."""\n    total = 0\n{body}\n    return total\n')
    parts.append(f"class Worker{i}:\n    def run(self, jobs):\n        return [scale_{i}_0(j, j) for j in jobs]\n\n"
                 "    def stop(self):\n        return None\n")
    return "\n\n".join(parts)


def write_bulk_repo(root: Path, modules: int = 60) -> Path:
    """The sample files, planted secrets (redacted and skipped files) and ``modules`` generated modules:
    several prepare tasks and embedding batches, so results must come back in order to match."""
    write_files(root, {**SAMPLE_FILES, **REDACTED_FILES, **SKIPPED_FILES})
    for i in range(modules):
        path = root / f"pkg{i % 4}" / f"mod_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module_source(i))
    (root / "assets").mkdir()
    (root / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return root


@pytest.fixture
def bulk_repo(tmp_path: Path) -> Path:
    root = tmp_path / "bulk"
    root.mkdir()
    return write_bulk_repo(root)
