"""Team keys on a real server: two repositories, a key per team, a key for all (``"*"``) and the single
``--api-key``, over every route of the app. ``ROUTES`` must name every route the app serves (the
first test fails otherwise), so a route added later is checked here the day it lands.

Each repository's names, paths and code carry a word found nowhere else (``kestrel``, ``marmot``):
a team key's answers must never contain the other team's word, and must contain its own (the
request really reached the data); the all-repositories keys see both words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest
from servers import ThreadedServer, app_routes, continue_body, open_repos

from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.app import create_app
from ragpilot.serve.auth import OPEN_PATHS
from ragpilot.serve.keys import hash_key
from ragpilot.serve.settings import ServeSettings

SERVE_DIR = Path(__file__).resolve().parents[2] / "serve"

KESTREL_KEY = "rpk_kestrel-team-0123456789"
MARMOT_KEY = "rpk_marmot-team-9876543210"
ALL_KEY = "rpk_platform-team-5555555555"
MASTER_KEY = "rpk_single-api-key-77777777"
WORD = {KESTREL_KEY: "kestrel", MARMOT_KEY: "marmot"}
OTHER = {KESTREL_KEY: "marmot", MARMOT_KEY: "kestrel"}
REPO = {KESTREL_KEY: "kestrelpay", MARMOT_KEY: "marmotledger"}
FILE = {KESTREL_KEY: "kestrelpay_settle.py", MARMOT_KEY: "marmotledger_post.py"}
BAD_HEADERS = [
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {KESTREL_KEY}x"},
    {"Authorization": f"Bearer {hash_key(KESTREL_KEY)}"},  # what the keys file holds is not a key
    {"Authorization": KESTREL_KEY},  # no scheme
    {"Authorization": f"Basic {KESTREL_KEY}"},
    {"Authorization": "Bearer"},  # no token at all
]

KEYS_TOML = f"""
[keys.kestrel-team]
sha256 = "{hash_key(KESTREL_KEY)}"
repos = ["kestrelpay"]

[keys.marmot-team]
key = "{MARMOT_KEY}"
repos = ["marmotledger"]

[keys.platform]
sha256 = "{hash_key(ALL_KEY)}"
repos = ["*"]
"""

ALL, NAMED, NONE = "every repository the key reads", "the repository it names", "no repository data"
CHAT = {"model": "ragpilot", "messages": [{"role": "user", "content": "How is a settlement posted?"}]}


@dataclass
class Example:
    """A request for one route. ``kind``: what its answer shows. In NAMED examples ``{repo}`` and
    ``{file}`` are replaced by the caller's own repository and file."""

    kind: str
    json: dict | None = None
    params: dict = field(default_factory=dict)
    path: str | None = None  # the concrete path when the route has path parameters


ROUTES: dict[tuple[str, str], Example] = {
    ("GET", "/health"): Example(NONE),  # counts only: test_health_counts_only_the_repositories_of_the_key
    ("GET", "/status"): Example(ALL),
    ("POST", "/search"): Example(ALL, json={"query": "settlement"}),
    ("POST", "/retrieve"): Example(ALL, json=continue_body("settlement")),
    ("GET", "/map"): Example(ALL, params={"question": "settlement"}),
    ("POST", "/map"): Example(ALL, json={"question": "settlement"}),
    ("GET", "/symbols"): Example(ALL, params={"name": "accepts"}),
    ("GET", "/symbols/references"): Example(ALL, params={"name": "accepts"}),
    ("GET", "/v1/models"): Example(NONE),
    ("POST", "/v1/chat/completions"): Example(ALL, json=CHAT),
    ("POST", "/v1/completions"): Example(NONE, json={"model": "ragpilot-raw", "prompt": "def settle("}),
    ("POST", "/v1/embeddings"): Example(NONE, json={"model": "ragpilot", "input": "settlement"}),
    ("GET", "/openapi.json"): Example(NONE),
    ("GET", "/"): Example(NONE),
    ("GET", "/ui/static/{name}"): Example(NONE, path="/ui/static/ragpilot.css"),
    ("POST", "/ui/search"): Example(ALL, json={"query": "settlement"}),
    ("GET", "/ui/health"): Example(ALL),
    ("GET", "/ui/file"): Example(NAMED, params={"repo": "{repo}", "path": "{file}"}),
    ("GET", "/ui/skipped"): Example(NAMED, params={"repo": "{repo}", "reason": "binary"}),
}

# Every way a request names one repository: another team's must answer exactly as an unknown name.
NAMING: list[tuple[str, str, dict]] = [
    ("POST", "/search", {"json": {"query": "settlement", "repo": "{repo}"}}),
    ("POST", "/search", {"json": {"query": "settlement", "repo": "{root}"}}),
    ("POST", "/search", {"json": {"query": "settlement", "repo": "{repo}", "files": True}}),
    ("POST", "/retrieve", {"json": continue_body("settlement", options={"repo": "{repo}"})}),
    ("POST", "/retrieve", {"json": continue_body("settlement", options={"repo": "{repo}", "map": True})}),
    ("POST", "/retrieve", {"json": continue_body("settlement", workspace="{uri}")}),
    ("GET", "/map", {"params": {"repo": "{repo}"}}),
    ("POST", "/map", {"json": {"question": "settlement", "repo": "{repo}"}}),
    ("GET", "/symbols", {"params": {"name": "accepts", "repo": "{repo}"}}),
    ("GET", "/symbols/references", {"params": {"name": "accepts", "repo": "{repo}"}}),
    ("POST", "/v1/chat/completions", {"json": {**CHAT, "ragpilot": {"repo": "{repo}"}}}),
    ("POST", "/ui/search", {"json": {"query": "settlement", "repo": "{repo}"}}),
    ("GET", "/ui/file", {"params": {"repo": "{repo}", "path": "{file}"}}),
    ("GET", "/ui/file", {"params": {"path": "{repo}/{file}"}}),
    ("GET", "/ui/skipped", {"params": {"repo": "{repo}", "reason": "binary"}}),
]


def fill(value, repo: str, file: str, root: Path):
    """``value`` with the placeholders replaced (dicts and lists walked)."""
    if isinstance(value, dict):
        return {k: fill(v, repo, file, root) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, repo, file, root) for v in value]
    if isinstance(value, str):
        return (value.replace("{repo}", repo).replace("{file}", file).replace("{root}", str(root))
                .replace("{uri}", root.as_uri()))
    return value


def write_repo(root: Path, word: str, what: str) -> None:
    (root / "src").mkdir(parents=True)
    (root / f"{root.name}_{'settle' if word == 'kestrel' else 'post'}.py").write_text(
        f"from src.{word}_rules import {word.title()}Rules\n\n\n"
        f'def {what}_{word}(settlement):\n    """{what.title()} one settlement through the {word} books."""\n'
        f"    if {word.title()}Rules().accepts(settlement):\n        return settlement.amount * 2\n"
        f"    return 0\n", encoding="utf-8")
    (root / "src" / f"{word}_rules.py").write_text(
        f"class {word.title()}Rules:\n    \"\"\"Which settlement the {word} team accepts.\"\"\"\n\n"
        f"    def accepts(self, settlement):\n        return settlement.amount > 0\n", encoding="utf-8")
    (root / f"{word}_blob.bin").write_bytes(b"\x00\x01binary\x00" * 32)


@pytest.fixture(scope="module")
def teams(tmp_path_factory, upstream):
    """kestrelpay and marmotledger indexed and served by a real uvicorn server with the keys file."""
    base = tmp_path_factory.mktemp("teams")
    roots = [base / "kestrelpay", base / "marmotledger"]
    write_repo(roots[0], "kestrel", "settle")
    write_repo(roots[1], "marmot", "post")
    keys_file = base / "keys.toml"
    keys_file.write_text(KEYS_TOML, encoding="utf-8")
    index = IndexSettings(home=base / "home", embedder="hashing")
    repos = open_repos(roots, index)
    settings = ServeSettings(repos=roots, index=index, keys_file=keys_file, api_key=MASTER_KEY,
                             upstream=upstream.url)
    app = create_app(settings, repos=repos)
    try:
        with ThreadedServer(app) as server:
            yield server.url, app, dict(zip((KESTREL_KEY, MARMOT_KEY), roots, strict=True))
    finally:
        repos.close()


def call(url: str, key: str | None, method: str, path: str, **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", None) or ({"Authorization": f"Bearer {key}"} if key else {})
    return httpx.request(method, url + path, headers=headers, timeout=60, **kwargs)


def named(example: Example, path: str, key: str, roots: dict) -> dict:
    repo, file = REPO[key], FILE[key]
    return {"json": fill(example.json, repo, file, roots[key]), "params": fill(example.params, repo, file, roots[key])}


def text_of(response: httpx.Response) -> str:
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    return (response.text + " " + headers).lower()


# ----- every route -----------------------------------------------------------------------------------
def test_every_route_the_app_serves_has_an_example_here(teams):
    _, app, _ = teams
    served = app_routes(app)
    assert len(served) >= 15, served  # the walk really reaches the routes of the included routers
    missing = sorted(served - set(ROUTES))
    assert not missing, f"add an Example to ROUTES in {__file__} for {missing}: every route is checked here"


def test_every_route_refuses_a_wrong_key_with_401_and_a_missing_one_unless_it_is_open(teams):
    url, app, _ = teams
    for method, path in sorted(app_routes(app)):
        example = ROUTES[(method, path)]
        concrete = example.path or path
        for headers in BAD_HEADERS:
            r = call(url, None, method, concrete, headers=headers, json=example.json or None, params=example.params)
            assert r.status_code == 401, (method, path, headers, r.status_code)
            assert "kestrel" not in text_of(r) and "marmot" not in text_of(r)
        anonymous = call(url, None, method, concrete, json=example.json or None, params=example.params)
        assert anonymous.status_code == (200 if concrete in OPEN_PATHS else 401), (method, path, anonymous.text)
        assert "kestrel" not in text_of(anonymous) and "marmot" not in text_of(anonymous), (method, path)


@pytest.mark.parametrize("key", [KESTREL_KEY, MARMOT_KEY])
def test_a_team_key_sees_only_its_own_repository_on_every_route(teams, key):
    url, app, roots = teams
    for method, path in sorted(app_routes(app)):
        example = ROUTES[(method, path)]
        r = call(url, key, method, example.path or path, **named(example, path, key, roots))
        assert r.status_code == 200, (method, path, r.text[:500])
        shown = text_of(r)
        assert OTHER[key] not in shown, (method, path, "shows the other team's repository", r.text[:2000])
        if example.kind in (ALL, NAMED):
            assert WORD[key] in shown, (method, path, "the request did not reach the key's own data", r.text[:500])


@pytest.mark.parametrize("key", [ALL_KEY, MASTER_KEY])
def test_a_key_for_every_repository_sees_both_on_every_route(teams, key):
    url, app, roots = teams
    for method, path in sorted(app_routes(app)):
        example = ROUTES[(method, path)]
        for owner in (KESTREL_KEY, MARMOT_KEY) if example.kind == NAMED else (None,):
            kwargs = named(example, path, owner, roots) if owner else {"json": example.json, "params": example.params}
            r = call(url, key, method, example.path or path, **kwargs)
            assert r.status_code == 200, (method, path, owner, r.text[:500])
            words = [WORD[owner]] if owner else ["kestrel", "marmot"] if example.kind == ALL else []
            for word in words:
                assert word in text_of(r), (method, path, word, r.text[:2000])


def test_another_teams_repository_answers_exactly_like_an_unknown_one(teams):
    url, _, roots = teams
    unknown_root = roots[MARMOT_KEY].parent / "nosuchrepo"
    for method, path, kwargs in NAMING:
        foreign = call(url, KESTREL_KEY, method, path,
                       **fill(kwargs, REPO[MARMOT_KEY], FILE[MARMOT_KEY], roots[MARMOT_KEY]))
        unknown = call(url, KESTREL_KEY, method, path, **fill(kwargs, "nosuchrepo", FILE[MARMOT_KEY], unknown_root))
        assert foreign.status_code == unknown.status_code == 404, (path, kwargs, foreign.text, unknown.text)
        as_unknown = (foreign.text.replace(str(roots[MARMOT_KEY]), str(unknown_root))
                      .replace(REPO[MARMOT_KEY], "nosuchrepo"))
        assert as_unknown == unknown.text.replace(REPO[MARMOT_KEY], "nosuchrepo"), (path, kwargs)
        allowed = call(url, ALL_KEY, method, path, **fill(kwargs, REPO[MARMOT_KEY], FILE[MARMOT_KEY], roots[MARMOT_KEY]))
        assert allowed.status_code == 200, (path, kwargs, allowed.text[:500])


def test_health_counts_only_the_repositories_of_the_key(teams):
    url, _, _ = teams

    def chunks(key):
        return {r["name"]: r["chunks"] for r in call(url, key, "GET", "/status").json()["repos"]}

    def embedded_of(key):
        return call(url, key, "GET", "/health").json()["embedded"]["of"]

    every = chunks(ALL_KEY)
    assert set(every) == {"kestrelpay", "marmotledger"} and chunks(KESTREL_KEY).keys() == {"kestrelpay"}
    assert embedded_of(KESTREL_KEY) == every["kestrelpay"] > 0
    assert embedded_of(MARMOT_KEY) == every["marmotledger"] > 0
    assert embedded_of(ALL_KEY) == embedded_of(MASTER_KEY) == sum(every.values())
    assert embedded_of(None) == 0  # without a key: alive, and nothing about any team's index


def test_routes_reach_repositories_only_through_get_state():
    """get_state is where a key's view is applied: a route reading app.state would bypass it."""
    for source in [*SERVE_DIR.glob("routes/*.py"), *SERVE_DIR.glob("web/*.py"), SERVE_DIR / "rag.py"]:
        text = source.read_text("utf-8")
        assert not re.search(r"app\.state|STATE_ATTR", text), f"{source} reads the app state directly"


# ----- the chat context, through the official client --------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_a_team_keys_chat_context_sent_upstream_holds_only_its_repository(teams, fake, stream):
    url, _, _ = teams
    for key, words in ((KESTREL_KEY, ["kestrel"]), (MARMOT_KEY, ["marmot"]), (ALL_KEY, ["kestrel", "marmot"])):
        client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
        assert [m.id for m in client.models.list()][:2] == ["ragpilot", "ragpilot-raw"]
        fake.requests.clear()
        if stream:
            pieces = client.chat.completions.create(model="ragpilot", messages=CHAT["messages"], stream=True)
            answer = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
        else:
            answer = client.chat.completions.create(model="ragpilot", messages=CHAT["messages"]).choices[0].message.content
        prompt = " ".join(str(m["content"]) for m in fake.last()["messages"]).lower()
        for word in ("kestrel", "marmot"):
            assert (word in prompt) == (word in words), (key, word, prompt[:2000])
            assert (word in answer.lower()) == (word in words), (key, word, answer)


def test_the_openai_client_with_a_wrong_key_gets_an_authentication_error(teams):
    url, _, _ = teams
    client = openai.OpenAI(base_url=url + "/v1", api_key="rpk_not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="ragpilot", messages=CHAT["messages"])
