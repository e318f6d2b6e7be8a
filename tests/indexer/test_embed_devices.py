"""Where embedding runs: workers from the machine, GPU providers when present, the same vectors
whatever the worker count."""

from __future__ import annotations

import numpy as np
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


def test_the_onnx_embedder_runs_on_the_real_cpu_provider_when_no_gpu_is_installed():
    embedder = create_embedder("minilm-onnx", threads=2)
    assert embedder.providers[0] == CPU  # the CPU onnxruntime wheel: auto falls back to the CPU
    assert embedder.workers == 2


def test_two_workers_give_the_same_vectors_in_the_same_order_as_one():
    texts = [f"def function_{i}(x):\n    return x * {i}\n" + "    # padding line\n" * (i % 7) for i in range(40)]
    one = create_embedder("minilm-onnx", threads=1, batch_size=16).embed_documents(texts)
    two = create_embedder("minilm-onnx", threads=2, batch_size=16).embed_documents(texts)
    four = create_embedder("minilm-onnx", threads=4, batch_size=16).embed_documents(texts)
    assert np.array_equal(one, two) and np.array_equal(one, four)


def test_embedders_without_a_device_choice_accept_the_machine_wide_device_setting():
    settings = IndexSettings(embedder="hashing", embed_device="cpu", embed_threads=2)
    embedder = create_embedder(settings.embedder, **settings.embedder_options())
    assert embedder.registry_name == "hashing"
