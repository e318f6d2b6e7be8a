"""The app with real models: the default MiniLM embedder behind /retrieve and /v1/embeddings, and the
default cross-encoder loaded once on the first reranked request."""

from __future__ import annotations

import numpy as np
from servers import client_for, continue_body, open_repos

from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.llm.upstream import UpstreamBackend
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.settings import ServeSettings


def test_with_the_default_minilm_embedder_a_paraphrased_question_finds_the_code(repo, tmp_path, fake):
    settings = IndexSettings(home=tmp_path / "minilm-home")  # the default embedder, minilm-onnx
    repos = open_repos([repo], settings)
    try:
        with client_for(repos, settings, UpstreamBackend(fake.url, model=fake.model)) as c:
            items = c.post("/retrieve", json=continue_body(
                "how long do we wait before sending a failed call again?", workspace=repo.as_uri(),
                options={"k": 2, "mode": "dense"})).json()
            assert items[0]["description"] == "src/http/retry.py"
            emb = c.post("/v1/embeddings", json={"model": "minilm-onnx", "input": "retry with backoff"}).json()
            vec = np.array(emb["data"][0]["embedding"])
            assert vec.shape == (384,) and abs(np.linalg.norm(vec) - 1) < 1e-3
            status = c.get("/status").json()["repos"][0]
            assert status["embedder"] == "minilm-onnx"
    finally:
        repos.close()


def test_asking_for_reranking_loads_the_configured_cross_encoder_once(repo, index_settings, fake):
    served = RepoSet.from_settings(ServeSettings(repos=[repo], index=index_settings))  # default reranker
    served.start(watch=False)
    assert served.wait_ready(120)
    with client_for(served, index_settings, UpstreamBackend(fake.url, model=fake.model)) as c:
        r = c.post("/search", json={"query": "how long to wait between attempts", "k": 2, "rerank": True})
        assert r.status_code == 200, r.text
        assert len(r.json()) == 2
        reranker = served.reranker()
        assert reranker is not None and served.reranker() is reranker
        items = c.post("/retrieve", json=continue_body("wait between attempts", options={"rerank": True, "k": 1}))
        assert items.status_code == 200 and len(items.json()) == 1
    served.close()
