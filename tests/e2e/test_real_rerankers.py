"""Rerankers on real models: the packaged ONNX cross-encoder, and the sentence-transformers backend (which
imports torch and sentence-transformers, ~10 s, even to report a missing folder)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from passages import IRRELEVANT, QUERY, RELEVANT, hit

from ragpilot.indexer.errors import ModelLoadError
from ragpilot.retrieval.rerankers import create_reranker, passage_text

def test_the_packaged_onnx_cross_encoder_ranks_the_relevant_snippet_first():
    reranker = create_reranker("onnx-cross-encoder", threads=1)
    hits = [hit(IRRELEVANT, "src/storage/cache.go"), hit(RELEVANT, "src/http/retry.py")]
    ranked = reranker.rerank(QUERY, hits)
    assert ranked[0].path == "src/http/retry.py"
    assert 0.0 <= ranked[1].score < ranked[0].score <= 1.0
    # Unbatched scoring: a passage's score does not depend on what it is scored with.
    alone = reranker.score(QUERY, [RELEVANT])[0]
    together = reranker.score(QUERY, ["x " * 200, RELEVANT, IRRELEVANT])[1]
    assert alone == pytest.approx(together, abs=1e-6)


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT pair classifier with the real MiniLM vocabulary, saved the
    way a downloaded cross-encoder is (config, weights, tokenizer files)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    tokenizer_json = resources.files("ragpilot.indexer.embedders").joinpath("data/minilm-tokenizer.json")
    tokenizer = transformers.BertTokenizerFast(tokenizer_file=str(tokenizer_json), do_lower_case=True)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=1,
    )
    model = transformers.BertForSequenceClassification(config)
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_cross_encoder_backend_loads_a_local_folder_and_scores_like_the_model(tiny_cross_encoder):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    reranker = create_reranker("cross-encoder", model=str(tiny_cross_encoder), max_length=128)
    passages = [RELEVANT, IRRELEVANT, "retry retry retry"]
    scores = reranker.score(QUERY, passages)

    model = transformers.BertForSequenceClassification.from_pretrained(tiny_cross_encoder).eval()
    tokenizer = transformers.BertTokenizerFast.from_pretrained(tiny_cross_encoder)
    batch = tokenizer([QUERY] * 3, passages, truncation=True, max_length=128, padding=True,
                      return_tensors="pt")
    with torch.no_grad():
        expected = torch.sigmoid(model(**batch).logits[:, 0]).numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-5)

    hits = [hit(p, start=i * 10 + 1) for i, p in enumerate(passages)]
    ranked = reranker.rerank(QUERY, hits)
    scores_of_passages = np.array(reranker.score(QUERY, [passage_text(h) for h in hits]))
    expected_order = np.argsort(-scores_of_passages, kind="stable")
    assert [h.start_line for h in ranked] == [hits[i].start_line for i in expected_order]
    assert reranker.id == f"cross-encoder:{tiny_cross_encoder}"


def test_a_cross_encoder_folder_that_does_not_exist_is_a_model_load_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ModelLoadError, match="not found"):
        create_reranker("cross-encoder", model=str(tmp_path / "nope" / "model"))


def test_an_uncached_hub_cross_encoder_fails_at_once_offline():
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ModelLoadError, match="offline"):
        create_reranker("cross-encoder", model="cross-encoder/not-a-real-model-ragpilot-test")
