"""Shared by the eval-run tests (this module holds no tests): a run configuration in a tmp dir and the
sanity checks every run's metrics must pass."""

from __future__ import annotations

from pathlib import Path

from ragpilot.eval.runner import EvalConfig

FAST_MODES = ("lexical", "dense", "hybrid")


def eval_config(tmp_path: Path, **kw) -> EvalConfig:
    return EvalConfig(modes=kw.pop("modes", FAST_MODES), work_dir=tmp_path / "work", **kw)


def assert_sane(result: dict, levels=("chunk", "file")) -> None:
    assert set(result["modes"]) == set(FAST_MODES)
    for agg in result["modes"].values():
        for level in levels:
            assert all(0.0 <= v <= 1.0 for v in agg[level].values())
            assert agg[level]["recall@1"] <= agg[level]["recall@5"] <= agg[level]["recall@10"]
        assert 0.0 <= agg["tiny_share"] <= 1.0
        assert agg["latency_ms"]["p50"] <= agg["latency_ms"]["p95"]
