"""The web page's routes in process (TestClient): what they show, what they refuse, and the API key.

The browser tests (tests/e2e/test_web_page.py) drive the same routes through a real ``ragpilot serve``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from planted_secrets import fake_secret
from servers import app_routes

from ragpilot.indexer.settings import IndexSettings
from ragpilot.serve.app import create_app
from ragpilot.serve.auth import OPEN_PATHS
from ragpilot.serve.repos import RepoSet
from ragpilot.serve.settings import ServeSettings
from ragpilot.serve.web.facts import ProgressSamples, indexing_eta
from ragpilot.serve.web.pages import duration
from ragpilot.serve.web.public import PUBLIC_PATHS, STATIC_FILES

KEY = "open-sesame"
PASSWORD = fake_secret("web-page-file-view")
OFF_ORIGIN = re.compile(r"""(src|href|url)\s*[=(]\s*["']?(https?:)?//|fetch\(\s*["'`](https?:)?//""")
NO_CHAT = "http://127.0.0.1:9/v1"  # nothing listens on the discard port: chat is simply unavailable
BINARY_NAMES = [f"data/blob_{i}.py" for i in range(7)] + ["data/<b>bold</b>.py"]


@pytest.fixture
def repo(sample_repo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "webrepo"
    shutil.copytree(sample_repo, root)
    (root / "src" / "markup.py").write_text(
        'def render_banner():\n    return "<script>alert(1)</script>"\n', encoding="utf-8")
    (root / "settings.py").write_text(f'DEBUG = True\nDB_PASSWORD = "{PASSWORD}"\n', encoding="utf-8")
    (root / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    (root / "ignored.py").write_text("def hidden_from_the_index():\n    pass\n", encoding="utf-8")
    for name in BINARY_NAMES:  # more than the five examples once kept per reason
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(b"\x00\x01binary\x00" * 32)
    (tmp_path / "outside.txt").write_text("not part of any repository\n", encoding="utf-8")
    return root


@pytest.fixture
def served(repo: Path, tmp_path: Path):
    settings = IndexSettings(home=tmp_path / "home", embedder="hashing")
    repos = RepoSet.from_paths([repo], settings)
    repos.start(watch=False)
    assert repos.wait_ready(120)
    assert repos.repos[0].state.phase == "ready", repos.repos[0].state
    yield repos, settings
    repos.close()


def client(served, **extra) -> TestClient:
    repos, settings = served
    serve = ServeSettings(repos=[r.root for r in repos.repos], index=settings, upstream=NO_CHAT, **extra)
    return TestClient(create_app(serve, repos=repos))


@pytest.fixture
def web(served):
    with client(served) as c:
        yield c


@pytest.fixture
def keyed(served):
    with client(served, api_key=KEY) as c:
        yield c


def is_openai_error(response, status: int) -> bool:
    body = response.json()
    return response.status_code == status and set(body["error"]) == {"message", "type", "param", "code"}


# ----- the shell and its assets ---------------------------------------------------------------------
def test_the_page_shell_loads_without_the_key_and_carries_no_repository_data(keyed, repo):
    page = keyed.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="search-form"' in page.text and 'id="ask-form"' in page.text and 'id="api-key"' in page.text
    assert repo.name not in page.text and str(repo) not in page.text
    assert not OFF_ORIGIN.search(page.text)  # nothing loaded from elsewhere


def test_every_static_asset_loads_without_the_key_and_only_listed_assets_exist(keyed):
    for name in STATIC_FILES:
        r = keyed.get(f"/ui/static/{name}")
        assert r.status_code == 200 and r.content, name
        assert not OFF_ORIGIN.search(r.text) and "@import" not in r.text, name
    assert keyed.get("/ui/static/highlight.css").headers["content-type"].startswith("text/css")
    assert keyed.get("/ui/static/../app.py").status_code in (401, 404)
    other = keyed.get("/ui/static/public.py", headers={"Authorization": f"Bearer {KEY}"})
    assert is_openai_error(other, 404)


def test_only_health_the_shell_and_its_assets_are_open_without_the_key(keyed):
    assert OPEN_PATHS == {"/health"} | PUBLIC_PATHS
    assert all(p == "/" or p.startswith("/ui/static/") for p in PUBLIC_PATHS)
    closed = sorted((m, p) for m, p in app_routes(keyed.app) if p not in OPEN_PATHS)
    assert len(closed) > 10, closed  # the walk reaches the included routers
    for method, path in closed:
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        r = keyed.request(method, concrete, params={"path": "src/http/retry.py"}, json={"query": "retry"})
        assert r.status_code == 401, (method, path, r.status_code)


def test_the_data_views_need_the_key_and_work_with_it(keyed):
    auth = {"Authorization": f"Bearer {KEY}"}
    calls = [("POST", "/ui/search", {"json": {"query": "retry policy"}}),
             ("GET", "/ui/file", {"params": {"repo": "webrepo", "path": "src/http/retry.py"}}),
             ("GET", "/ui/health", {}),
             ("GET", "/ui/skipped", {"params": {"repo": "webrepo", "reason": "binary"}})]
    for method, path, kwargs in calls:
        assert is_openai_error(keyed.request(method, path, **kwargs), 401), path
        wrong = keyed.request(method, path, headers={"Authorization": "Bearer nope"}, **kwargs)
        assert wrong.status_code == 401, path
        assert keyed.request(method, path, headers=auth, **kwargs).status_code == 200, path


# ----- search ---------------------------------------------------------------------------------------
def test_search_shows_highlighted_snippets_with_their_place_symbol_score_and_a_file_link(web):
    r = web.post("/ui/search", json={"query": "RetryPolicy should_retry", "mode": "lexical", "k": 3})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert re.search(r"src/http/retry\.py:\d+-\d+", r.text)
    assert '<code class="symbol">RetryPolicy' in r.text
    assert re.search(r'class="score"[^>]*>\d\.\d{4}<', r.text)
    assert re.search(r'href="/ui/file\?repo=webrepo&amp;path=src%2Fhttp%2Fretry\.py&amp;lines=\d+-\d+#L\d+"', r.text)
    assert '<span class="k">class</span>' in r.text  # Pygments tokens


def test_snippet_text_is_html_escaped(web):
    r = web.post("/ui/search", json={"query": "render_banner script alert", "mode": "lexical"})
    assert "src/markup.py" in r.text
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text


def test_files_mode_lists_each_file_once_in_the_order_of_the_file_search_api(web):
    r = web.post("/ui/search", json={"query": "retry request client", "mode": "files", "k": 5})
    assert r.status_code == 200 and "files ranked by their matching chunks" in r.text
    shown = re.findall(r'<article class="hit" data-path="([^"]+)"', r.text)
    assert shown and len(shown) == len(set(shown)) <= 5
    api = web.post("/search", json={"query": "retry request client", "files": True, "k": 5})
    assert shown == [f["path"] for f in api.json()]


def test_a_search_with_a_bad_mode_or_no_query_is_a_400_in_the_openai_shape(web):
    assert is_openai_error(web.post("/ui/search", json={"query": "x", "mode": "regex"}), 400)
    assert is_openai_error(web.post("/ui/search", json={"query": ""}), 400)


# ----- a file ---------------------------------------------------------------------------------------
def test_an_indexed_file_opens_with_line_anchors_and_the_hit_lines_marked(web):
    r = web.get("/ui/file", params={"repo": "webrepo", "path": "src/http/retry.py", "lines": "4-5"})
    assert r.status_code == 200
    assert 'id="L1"' in r.text and 'class="line hit" id="L4"' in r.text and 'class="line hit" id="L5"' in r.text
    assert 'class="line hit" id="L6"' not in r.text
    assert "RetryPolicy" in r.text


@pytest.mark.parametrize("path", [
    "../outside.txt", "src/../../outside.txt", "/etc/passwd", "./src/http/retry.py", "src//http/retry.py",
    "src\\http\\retry.py", "ignored.py", "no/such/file.py", ".git/config", "src/http/retry.py\x00.txt", "",
])
def test_a_path_that_is_not_an_indexed_file_is_refused_with_a_404(web, path):
    r = web.get("/ui/file", params={"repo": "webrepo", "path": path})
    assert is_openai_error(r, 404) or is_openai_error(r, 400), (path, r.status_code, r.text)
    assert "not part of any repository" not in r.text and "root:" not in r.text


def test_a_file_of_a_repository_that_is_not_served_is_refused(web, tmp_path):
    r = web.get("/ui/file", params={"repo": str(tmp_path), "path": "outside.txt"})
    assert is_openai_error(r, 404)


def test_an_indexed_file_replaced_by_a_symlink_out_of_the_repository_is_refused(web, repo, tmp_path):
    target = repo / "src" / "markup.py"
    assert web.get("/ui/file", params={"path": "src/markup.py"}).status_code == 200
    target.unlink()
    os.symlink(tmp_path / "outside.txt", target)
    r = web.get("/ui/file", params={"path": "src/markup.py"})
    assert is_openai_error(r, 404) and "outside the repository" in r.json()["error"]["message"]
    assert "not part of any repository" not in r.text


def test_a_file_shows_secret_values_redacted_as_in_the_index(web):
    r = web.get("/ui/file", params={"path": "settings.py"})
    assert r.status_code == 200
    assert PASSWORD not in r.text and "[REDACTED]" in r.text


# ----- health ---------------------------------------------------------------------------------------
def test_health_shows_the_counts_of_status_with_languages_and_size_on_disk(web):
    status = web.get("/status").json()["repos"][0]
    page = web.get("/ui/health").text
    fact = lambda name: re.search(rf'data-fact="{name}"[^>]*>\s*([^<]*?)\s*<', page).group(1)  # noqa: E731
    assert int(fact("files")) == status["files"] and int(fact("chunks")) == status["chunks"]
    assert fact("coverage") == "100.0%"
    assert re.search(r"\d+(\.\d)? (KB|MB|B)", fact("size"))
    assert 'aria-label="files per language"' in page and ">python<" in page and ">typescript<" in page
    assert "chat:\n<b>upstream</b>" in page


def test_health_offers_each_skip_reason_and_lists_its_paths_on_demand_escaped(web):
    page = web.get("/ui/health").text
    assert '<details class="skipped" data-repo="webrepo" data-reason="binary">' in page
    assert "blob_0.py" not in page  # the list is fetched when the reason is opened
    r = web.get("/ui/skipped", params={"repo": "webrepo", "reason": "binary"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    listed = re.findall(r"<li><code>([^<]*)</code></li>", r.text)
    assert sorted(listed) == sorted(n.replace("<", "&lt;").replace(">", "&gt;") for n in BINARY_NAMES)
    assert "<b>" not in r.text and "shown" not in r.text  # escaped; every path kept
    ignored = web.get("/ui/skipped", params={"repo": "webrepo", "reason": "ignored"}).text
    assert "<code>ignored.py</code>" in ignored


def test_skipped_paths_of_a_reason_with_no_skips_or_an_unknown_repository_are_a_404(web):
    assert is_openai_error(web.get("/ui/skipped", params={"repo": "webrepo", "reason": "secret"}), 404)
    assert is_openai_error(web.get("/ui/skipped", params={"repo": "nope", "reason": "binary"}), 404)
    assert is_openai_error(web.get("/ui/skipped", params={"repo": "webrepo"}), 400)


def test_the_pass_summary_index_json_keeps_its_keys_and_adds_the_skipped_paths(served):
    repos, _settings = served
    summary = repos.repos[0].state.summary
    assert {"files_skipped", "skipped_by_reason", "skipped_examples"} <= set(summary)
    assert summary["skipped_by_reason"]["binary"] == len(summary["skipped_examples"]["binary"]) == 8


# ----- live progress of a start-up pass --------------------------------------------------------------
def test_eta_is_estimating_until_a_few_files_are_done_then_the_files_left_over_the_rate():
    assert indexing_eta(2, 100, since_done=0, since_time=0.0, now=5.0) == {"rate": None, "eta_seconds": None}
    assert indexing_eta(50, 100, since_done=0, since_time=0.0, now=0.5)["eta_seconds"] is None  # too soon
    assert indexing_eta(20, 100, since_done=0, since_time=0.0, now=10.0) == {"rate": 2.0, "eta_seconds": 40.0}
    assert indexing_eta(100, 100, since_done=100, since_time=0.0, now=0.0)["eta_seconds"] == 0.0


def test_the_rate_counts_from_the_first_sample_not_from_files_found_unchanged_at_once():
    samples = ProgressSamples()
    state = {"phase": "index", "files_total": 1000, "files_done": 900, "chunks_embedded": 0, "started_at": 50.0}
    first = samples.progress("r", state, now=100.0)  # 900 unchanged files were counted done in one go
    assert first["eta_seconds"] is None and first["share"] == 0.9
    later = samples.progress("r", {**state, "files_done": 920, "chunks_embedded": 300}, now=110.0)
    assert later["rate"] == 2.0 and later["eta_seconds"] == 40.0 and later["chunks_embedded"] == 300


def test_there_is_no_progress_bar_before_the_total_is_known_and_a_new_pass_starts_a_new_sample():
    samples = ProgressSamples()
    assert samples.progress("r", {"phase": "scan", "files_total": 0, "started_at": 1.0}, now=2.0) is None
    running = {"phase": "index", "files_total": 10, "files_done": 0, "started_at": 1.0}
    samples.progress("r", running, now=2.0)
    assert samples.progress("r", {**running, "phase": "ready", "files_done": 10}, now=9.0) is None
    again = samples.progress("r", {**running, "files_done": 4, "started_at": 20.0}, now=21.0)
    assert again["eta_seconds"] is None  # measured from this pass's first sample, not the last one's


def test_durations_read_as_seconds_minutes_or_hours():
    assert [duration(s) for s in (None, 4.4, 65, 7260)] == ["estimating…", "4 s", "1 min 05 s", "2 h 01 min"]


def test_health_shows_a_progress_bar_while_a_pass_runs_and_none_once_ready(served, web):
    state = served[0].repos[0].state
    state.phase, state.files_total, state.files_done, state.chunks_embedded = "index", 120, 30, 75
    page = web.get("/ui/health").text
    assert 'data-working="index"' in page and 'data-progress' in page
    assert '<progress max="120" value="30">' in page and "30 / 120 files · 75 chunks embedded" in page
    assert "ETA estimating…" in page
    state.phase = "scan"
    assert "listing the files" in web.get("/ui/health").text
    state.phase, state.files_done = "ready", 120
    page = web.get("/ui/health").text
    assert "data-working" not in page and "data-progress" not in page


# ----- packaging ------------------------------------------------------------------------------------
