"""A small real eval run with the packaged MiniLM on a vendored corpus."""

from __future__ import annotations

from pathlib import Path

from eval_checks import assert_sane, eval_config

from ragpilot.eval.engine import Engine
from ragpilot.eval.runner import eval_docstrings


def test_the_small_real_eval_on_click_gives_sane_metrics(tmp_path: Path, ragpilot_home):
    cfg = eval_config(tmp_path, max_tasks=30)
    result = eval_docstrings("click", Engine("minilm-onnx"), cfg)
    assert result["n_tasks"] == 30
    assert_sane(result)
    hybrid = result["modes"]["hybrid"]["chunk"]
    assert 0.0 < hybrid["recall@10"] <= 1.0
    assert result["index"]["chunks_total"] > 100
