"""Where embedding runs: workers from the machine, GPU providers when present, the same vectors
whatever the worker count."""

from __future__ import annotations

import pytest

from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.embedders.devices import (
    machine_cores,
    onnx_providers,
    resolve_workers,
    torch_device,
)
from ragpilot.indexer.errors import UsageError
from ragpilot.indexer.settings import IndexSettings

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def test_workers_default_to_every_core_and_a_setting_caps_them():
    assert resolve_workers(None, cores=16) == 16
    assert resolve_workers(2, cores=16) == 2
    assert resolve_workers(None) == machine_cores() >= 1
    with pytest.raises(UsageError):
        resolve_workers(0)


def test_the_env_variable_sets_the_embed_threads(monkeypatch):
    monkeypatch.setenv("RAGPILOT_EMBED_THREADS", "3")
    monkeypatch.setenv("RAGPILOT_EMBED_DEVICE", "cpu")
    options = IndexSettings().embedder_options()
    assert options["threads"] == 3 and options["device"] == "cpu"


def test_auto_prefers_cuda_then_other_gpus_and_always_keeps_the_cpu_fallback():
    assert onnx_providers([CPU], "auto") == [CPU]
    assert onnx_providers(["TensorrtExecutionProvider", CUDA, CPU], "auto") == [CUDA, CPU]
    assert onnx_providers(["ROCMExecutionProvider", CPU], "auto") == ["ROCMExecutionProvider", CPU]
    assert onnx_providers([CUDA, CPU], "cpu") == [CPU]
    assert onnx_providers([CUDA, CPU], "CUDA") == [CUDA, CPU]


def test_asking_for_cuda_without_a_cuda_build_is_a_usage_error_not_a_silent_cpu_run():
    with pytest.raises(UsageError, match="onnxruntime-gpu"):
        onnx_providers([CPU], "cuda")
    with pytest.raises(UsageError, match="choose one of"):
        onnx_providers([CPU], "tpu")
    with pytest.raises(UsageError):
        torch_device("cuda", cuda_available=False)
    assert torch_device("auto", cuda_available=True) == "cuda"
    assert torch_device("auto", cuda_available=False) == "cpu"


def test_embedders_without_a_device_choice_accept_the_machine_wide_device_setting():
    settings = IndexSettings(embedder="hashing", embed_device="cpu", embed_threads=2)
    embedder = create_embedder(settings.embedder, **settings.embedder_options())
    assert embedder.registry_name == "hashing"


def test_meta_json_records_the_model_options_but_not_this_machines_threads_or_device(sample_repo, tmp_path):
    """A reader on another machine opens the index's model with its own cores and device."""
    from ragpilot.indexer.pipeline import index_repo
    from ragpilot.indexer.store import IndexStore

    settings = IndexSettings(embedder="hashing", embed_device="cpu", embed_threads=2, index_dir=tmp_path / "idx")
    index_repo(sample_repo, settings)
    options = IndexStore.read_meta(tmp_path / "idx").embedder_options
    assert "threads" not in options and "device" not in options
