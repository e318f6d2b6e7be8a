"""Where an embedder runs: how many CPU workers by default, and which device or execution provider.

Pure functions over what the machine reports, so the choice is testable with made-up provider lists
and core counts; the embedders call them with the real ``onnxruntime.get_available_providers()`` or
``torch.cuda.is_available()``.

Workers default to the cores this process may run on (``os.sched_getaffinity``: a container or
``taskset`` limit counts, not the host's core count). ``embed_threads`` / ``RAGPILOT_EMBED_THREADS`` /
``--embed-threads`` caps them, e.g. 1 on a machine shared with other work.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..errors import UsageError

DEVICES = ("auto", "cpu", "cuda")

CPU_PROVIDER = "CPUExecutionProvider"
# Tried in this order when the device is "auto"; the CPU provider always comes last as the fallback.
# TensorRT is left out on purpose: it compiles an engine per input shape, and chunk batches vary.
GPU_PROVIDERS = ("CUDAExecutionProvider", "ROCMExecutionProvider", "CoreMLExecutionProvider",
                 "DmlExecutionProvider")


def machine_cores() -> int:
    """Cores this process may use: its CPU affinity where the OS reports one, else ``os.cpu_count()``."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def resolve_workers(requested: int | None, cores: int | None = None) -> int:
    """``requested`` if given (at least 1), else every core: one embedding worker per core."""
    if requested is not None:
        if int(requested) < 1:
            raise UsageError(f"embed threads must be at least 1, got {requested}")
        return int(requested)
    return cores if cores is not None else machine_cores()


def check_device(device: str) -> str:
    """``device`` lower-cased, or a UsageError naming the choices."""
    value = (device or "auto").strip().lower()
    if value not in DEVICES:
        raise UsageError(f"unknown embed device '{device}'; choose one of: {', '.join(DEVICES)}")
    return value


def onnx_providers(available: Sequence[str], device: str = "auto") -> list[str]:
    """onnxruntime execution providers for ``device``, best first, always ending with the CPU one.

    ``auto`` takes the first GPU provider this onnxruntime build offers (onnxruntime-gpu lists
    ``CUDAExecutionProvider``); ``cpu`` never uses a GPU; ``cuda`` insists on CUDA and is a
    UsageError when the installed onnxruntime has none (the CPU wheel), rather than a silent CPU run.
    """
    device = check_device(device)
    if device == "cpu":
        return [CPU_PROVIDER]
    if device == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise UsageError(
                "embed device 'cuda' needs onnxruntime-gpu with CUDA; this onnxruntime offers "
                f"{', '.join(available) or 'no providers'} (pip install onnxruntime-gpu, then check "
                "onnxruntime.get_available_providers())"
            )
        return ["CUDAExecutionProvider", CPU_PROVIDER]
    gpu = next((p for p in GPU_PROVIDERS if p in available), None)
    return [gpu, CPU_PROVIDER] if gpu else [CPU_PROVIDER]


def torch_device(device: str, cuda_available: bool) -> str:
    """The torch device for ``device``: ``auto`` is ``cuda`` when torch sees a GPU, else ``cpu``."""
    device = check_device(device)
    if device == "cuda" and not cuda_available:
        raise UsageError("embed device 'cuda' needs torch with CUDA; torch.cuda.is_available() is False")
    if device == "auto":
        return "cuda" if cuda_available else "cpu"
    return device


def on_gpu(providers: Sequence[str]) -> bool:
    return bool(providers) and providers[0] != CPU_PROVIDER
