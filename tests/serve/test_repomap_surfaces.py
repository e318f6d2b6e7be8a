"""The repo map where users and agents reach it (``ragpilot map``, ``GET/POST /map``, Continue's ``/retrieve``
with ``options.map``, the MCP tool ``repo_map``) and where the chat uses it (a map slice for repository-level
questions, graph expansion), over a real index of a small shop whose ``app/core.py`` every handler uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest
from samples import write_files
from servers import client_for, continue_body

from ragpilot.indexer.pipeline import index_repo
from ragpilot.indexer.types import approx_tokens
from ragpilot.retrieval.repomap_index import graph_for_index
from ragpilot.retrieval.repomap_settings import MAX_MAP_TOKENS, RepoMapSettings
from ragpilot.serve.cli import main
from ragpilot.serve.llm.upstream import UpstreamBackend
from ragpilot.serve.mcp import build_server
from ragpilot.serve.rag import build_chat_context
from ragpilot.serve.settings import ServeSettings

HANDLER = '''
    """{what} handlers."""

    from app.core import Router, dispatch_request


    def list_{what}(router: Router) -> str:
        """Every {what}, through the router."""
        return dispatch_request(router, "/{what}")
    '''

SHOP = {
    "app/core.py": '''
        """The request core: every handler goes through dispatch_request."""


        class Router:
            """Maps paths to handlers."""

            def route(self, path: str) -> str:
                return path.strip("/")


        def dispatch_request(router: Router, path: str) -> str:
            """Send a request to the handler its path names."""
            return router.route(path)
        ''',
    **{f"app/handlers/{what}.py": HANDLER.format(what=what) for what in ("users", "orders", "items", "carts")},
    "app/billing/payments.py": '''
        """Card payments (nothing calls them yet)."""


        def charge_card(amount_cents: int) -> bool:
            """Charge the customer's card."""
            return amount_cents > 0
        ''',
    "README.md": "# Shop\n\nA tiny shop.\n",
}

REPO_LEVEL = "How is this project organised: how does a request reach the router?"
PINPOINT = "What does charge_card return?"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    write_files(root, SHOP)
    return root


@pytest.fixture
def client(served, index_settings):
    with client_for(served, index_settings) as c:
        yield c


def paths(m: dict) -> list[str]:
    return [f["path"] for f in m["files"]]


# ----- CLI --------------------------------------------------------------------------------------------
def test_ragpilot_map_ranks_the_core_first_and_a_question_moves_what_it_names_up(repo, ragpilot_home, capsys):
    assert main(["map", "--repo", str(repo)]) == 1
    assert "not indexed" in capsys.readouterr().err
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()

    assert main(["map", "--repo", str(repo), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert paths(plain)[0] == "app/core.py"
    assert plain["tokens"] <= plain["budget_tokens"] == 1024
    assert "README.md" not in paths(plain)  # no definitions, nothing to show

    assert main(["map", "--repo", str(repo), "--json", "--tokens", "300", "where", "is", "charge_card?"]) == 0
    asked = json.loads(capsys.readouterr().out)
    assert paths(asked)[0] == "app/billing/payments.py" and asked["personalized"]
    assert asked["tokens"] <= 300

    assert main(["map", "--repo", str(repo)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("app/core.py\n") and "dispatch_request(router: Router, path: str) -> str" in text


@pytest.mark.parametrize("argv,message", [
    (["--tokens", "10"], "between 64 and"), (["--tokens", str(MAX_MAP_TOKENS + 1)], "between 64 and"),
    (["  "], "the question is empty"),
])
def test_ragpilot_map_refuses_bad_input_with_one_line(repo, ragpilot_home, capsys, argv, message):
    assert main(["index", "--embedder", "hashing", str(repo)]) == 0
    capsys.readouterr()
    assert main(["map", "--repo", str(repo), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ----- HTTP -------------------------------------------------------------------------------------------
def test_get_map_is_the_plain_map_and_post_map_a_personalised_one(client):
    r = client.get("/map")
    assert r.status_code == 200, r.text
    body = r.json()
    (plain,) = body["maps"]
    assert plain["repo"] == "shop" and paths(plain)[0] == "app/core.py"
    assert plain["tokens"] == approx_tokens(plain["text"]) <= body["budget_tokens"] == 1024
    core = plain["files"][0]["definitions"]
    assert {"Router", "route", "dispatch_request"} <= {d["name"] for d in core}
    assert all({"qualified", "kind", "line_start", "line_end", "signature"} <= set(d) for d in core)

    asked = client.post("/map", json={"question": "charge_card", "tokens": 200}).json()
    assert paths(asked["maps"][0])[0] == "app/billing/payments.py"
    assert asked["maps"][0]["tokens"] <= 200
    same = client.get("/map", params={"question": "charge_card", "tokens": 200, "repo": "shop"}).json()
    assert same == asked


@pytest.mark.parametrize("call", [
    lambda c: c.get("/map", params={"tokens": MAX_MAP_TOKENS + 1}),
    lambda c: c.get("/map", params={"tokens": 10**30}),
    lambda c: c.get("/map", params={"tokens": "lots"}),
    lambda c: c.get("/map", params={"question": " "}),
    lambda c: c.post("/map", json={"question": ""}),
    lambda c: c.post("/map", json={"tokens": "1024"}),
    lambda c: c.post("/map", json={"tokens": 0}),
    lambda c: c.post("/map", json=[1]),
])
def test_bad_map_requests_are_a_400_with_an_openai_error(client, call):
    r = call(client)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"]


def test_a_map_of_an_unknown_repository_is_a_404(client):
    r = client.post("/map", json={"repo": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]


def test_an_index_without_a_symbol_index_is_a_404_saying_to_run_index(client, served):
    (served.repos[0].index_dir / "symbols.sqlite").unlink()
    r = client.get("/map")
    assert r.status_code == 404 and "ragpilot index" in r.json()["error"]["message"]


def test_continue_retrieve_with_the_map_option_returns_the_map_as_one_item(client):
    r = client.post("/retrieve", json=continue_body("how is it organised?", options={"map": True,
                                                                                      "budget_tokens": 300}))
    assert r.status_code == 200, r.text
    (item,) = r.json()
    assert item["name"] == "repo map (shop)"
    assert "app/core.py" in item["content"] and "dispatch_request" in item["content"]
    assert item["uri"]["value"].startswith("file://")
    bad = client.post("/retrieve", json=continue_body("q", options={"map": True, "budget_tokens": 10**9}))
    assert bad.status_code == 400 and "between" in bad.json()[0]["content"]


# ----- MCP --------------------------------------------------------------------------------------------
def test_the_mcp_repo_map_tool_answers_a_map_and_refuses_bad_input(served, index_settings):
    server = build_server(ServeSettings(repos=[served.repos[0].root], index=index_settings), served)

    async def run():
        tools = {t.name: t for t in await server.list_tools()}
        plain = await server.call_tool("repo_map", {})
        asked = await server.call_tool("repo_map", {"question": "charge_card", "budget_tokens": 200})
        errors = []
        for bad in ({"question": " "}, {"budget_tokens": 10**9}, {"repo": "nope"}):
            try:
                result = await server.call_tool("repo_map", bad)
                errors.append(getattr(result, "is_error", False) or getattr(result, "isError", False))
            except Exception as err:  # the SDK raises ToolError in process
                errors.append(str(err))
        return tools, plain, asked, errors

    tools, plain, asked, errors = anyio.run(run)
    assert {"question", "budget_tokens", "repo"} <= set(tools["repo_map"].input_schema["properties"])
    text = plain.structured_content["result"]
    assert text.startswith("# shop: ") and "\napp/core.py\n" in text
    assert asked.structured_content["result"].split("\n")[1] == "app/billing/payments.py"
    assert all(errors), errors


# ----- the chat ---------------------------------------------------------------------------------------
def system_prompt(client, fake, question: str) -> str:
    r = client.post("/v1/chat/completions", json={"model": "ragpilot", "ragpilot": {"k": 1},
                                                  "messages": [{"role": "user", "content": question}]})
    assert r.status_code == 200, r.text
    return fake.last()["messages"][0]["content"]


def test_the_chat_adds_a_map_slice_for_a_repository_level_question_only(served, index_settings, fake):
    backend = UpstreamBackend(fake.url, model=fake.model)
    with client_for(served, index_settings, backend, repomap={"chat_map": True, "chat_breadth": False},
                    context_tokens=600) as c:
        repo_level = system_prompt(c, fake, REPO_LEVEL)
        pinpoint = system_prompt(c, fake, PINPOINT)
    assert "(repo map)" in repo_level and "are a map of the repository" in repo_level
    assert "app/core.py:" in repo_level
    assert "(repo map)" not in pinpoint and "map of the repository" not in pinpoint
    backend = UpstreamBackend(fake.url, model=fake.model)  # a client is bound to its app's event loop
    with client_for(served, index_settings, backend, repomap={"chat_map": False, "chat_breadth": False},
                    context_tokens=600) as c:
        assert "(repo map)" not in system_prompt(c, fake, REPO_LEVEL)
    defaults = ServeSettings().repomap
    assert defaults.chat_map and defaults.chat_breadth and not defaults.expand_graph  # the eval's verdict


def test_the_chat_answers_a_repository_level_question_from_one_short_excerpt_per_file(served, index_settings,
                                                                                      fake):
    """Breadth-first: more files within the same budget; a pinpoint question's context is unchanged."""
    prompts = {}
    for breadth in (False, True):
        backend = UpstreamBackend(fake.url, model=fake.model)
        with client_for(served, index_settings, backend, repomap={"chat_map": False, "chat_breadth": breadth},
                        context_tokens=300) as c:
            prompts[breadth] = (system_prompt(c, fake, REPO_LEVEL), system_prompt(c, fake, PINPOINT))
    cited = {b: set(re.findall(r"^\[\d+\] ([\w/.]+):", p[0], re.MULTILINE)) for b, p in prompts.items()}
    assert len(cited[True]) > len(cited[False]) and "app/core.py" in cited[True]
    assert prompts[True][1] == prompts[False][1]  # pinpoint: the chunk search's context, byte for byte


def test_breadth_excerpts_stay_within_the_budget_and_cut_long_chunks_to_their_first_lines(served):
    settings = RepoMapSettings(breadth_lines=2)
    for budget in (120, 300, 600):
        text, cited = build_chat_context(served, REPO_LEVEL, use_map=True, expand_graph=False, breadth=True,
                                         budget_tokens=budget, settings=settings)
        excerpts = text.split("--- BEGIN RETRIEVED EXCERPTS (reference only) ---\n\n")[1]
        assert approx_tokens(excerpts.split("\n\n--- END RETRIEVED EXCERPTS ---")[0]) <= budget
        assert cited
    text, _ = build_chat_context(served, REPO_LEVEL, use_map=False, expand_graph=False, breadth=True,
                                 budget_tokens=2000, settings=RepoMapSettings(breadth_lines=2))
    after_lead = r"^\[(?:[3-9]|\d\d)\] [\w/.]+:(\d+)-(\d+)"  # excerpts 3 and on
    spans = [(int(a), int(b)) for a, b in re.findall(after_lead, text, re.MULTILINE)]
    assert spans and all(b - a + 1 <= 2 for a, b in spans)  # after the two lead files: two lines each


def test_the_map_slice_stays_within_the_chat_budget(served):
    for budget in (200, 400, 800):
        text, cited = build_chat_context(served, REPO_LEVEL, use_map=True, expand_graph=False,
                                         budget_tokens=budget, k=2)
        blocks = text.split("--- BEGIN RETRIEVED EXCERPTS (reference only) ---\n\n")[1]
        excerpts = blocks.split("\n\n--- END RETRIEVED EXCERPTS ---")[0]
        assert approx_tokens(excerpts) <= budget
        assert cited


def test_build_chat_context_cites_more_files_with_the_map_on_a_repository_level_question(served):
    _, without = build_chat_context(served, REPO_LEVEL, use_map=False, expand_graph=False, budget_tokens=600, k=1)
    text, with_map = build_chat_context(served, REPO_LEVEL, use_map=True, expand_graph=False,
                                        budget_tokens=600, k=1)
    assert set(without) < set(with_map) and "app/core.py" in with_map
    assert "(repo map)" in text
    _, pinpoint = build_chat_context(served, PINPOINT, use_map=True, expand_graph=False, budget_tokens=600, k=1)
    assert pinpoint == build_chat_context(served, PINPOINT, use_map=False, expand_graph=False,
                                          budget_tokens=600, k=1)[1]


def test_graph_expansion_adds_the_definition_a_hit_calls(served):
    question = "list_orders"
    _, plain = build_chat_context(served, question, use_map=False, expand_graph=False, budget_tokens=800, k=1)
    text, expanded = build_chat_context(served, question, use_map=False, expand_graph=True,
                                        budget_tokens=800, k=1)
    assert plain == ["app/handlers/orders.py"]
    assert expanded[:2] == ["app/handlers/orders.py", "app/core.py"]
    assert "def dispatch_request(router: Router, path: str) -> str:" in text  # its code, from the index


def test_a_changed_symbol_index_rebuilds_the_cached_graph(served, repo):
    served_repo = served.repos[0]
    first = graph_for_index(served_repo.index_dir)
    assert graph_for_index(served_repo.index_dir) is first  # unchanged store: the cached graph
    write_files(repo, {"app/handlers/refunds.py": HANDLER.format(what="refunds")})
    index_repo(served_repo.root, served_repo.settings, embedder=served_repo.embedder)
    second = graph_for_index(served_repo.index_dir)
    assert second is not first and "app/handlers/refunds.py" in second.files
