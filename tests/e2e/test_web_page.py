"""The web page in a real browser: headless Chromium (Debian's) driven by Selenium against a real
``ragpilot serve`` subprocess on 127.0.0.1, over a small repository indexed with the hashing embedder.

Needs ``apt-get install -y chromium chromium-driver`` (/usr/bin/chromium, /usr/bin/chromedriver) and the
``test`` extra (selenium); asking uses the packaged SmolLM2 (extra ``llm``). With
``RAGPILOT_SCREENSHOTS=docs/screenshots`` the three views are saved there. Run: ``pytest tests/e2e``;
first paint is measured by bench/bench_web_first_paint.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("RAGPILOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("RAGPILOT_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = "install them with: apt-get install -y chromium chromium-driver"
if not Path(CHROMIUM).exists():
    pytest.skip(f"the browser tests need Chromium (none at {CHROMIUM}): {INSTALL}", allow_module_level=True)
if not Path(CHROMEDRIVER).exists():
    pytest.skip(f"the browser tests need chromedriver (none at {CHROMEDRIVER}): {INSTALL}", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium: pip install -e '.[test]'")

from samples import SAMPLE_FILES, write_files  # noqa: E402
from planted_secrets import SKIPPED_FILES  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402
from servers import RagpilotProcess, index_with_hashing  # noqa: E402


KEY = "browser-sesame"
# Set RAGPILOT_SCREENSHOTS=docs/screenshots to refresh the README's pictures (else they go to a tmp dir).
SCREENSHOTS = os.environ.get("RAGPILOT_SCREENSHOTS")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,800")


# ----- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def repo(workdir: Path) -> Path:
    root = workdir / "shop"
    root.mkdir()
    write_files(root, SAMPLE_FILES)
    (root / "app").mkdir()
    (root / "app" / "notify.py").write_text(SKIPPED_FILES["app/notify.py"], encoding="utf-8")  # "secret"
    (root / "app" / "blob.py").write_bytes(b"\x00\x01\x02binary\x00" * 64)  # "binary"
    (workdir / "outside.txt").write_text("not part of any repository\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def home(workdir: Path, repo: Path) -> Path:
    home = workdir / "home"
    index_with_hashing(repo, home)
    return home


@pytest.fixture(scope="module")
def server(repo, home, workdir):
    """With the packaged SmolLM2 for asking."""
    args = ["--embedder", "hashing", "--no-watch", "--n-ctx", "2048", "--context-tokens", "400", "-k", "3",
            str(repo)]
    with RagpilotProcess(args, home, workdir / "serve.log") as proc:
        proc.wait_indexed()
        yield proc


@pytest.fixture(scope="module")
def keyed_server(repo, home, workdir):
    """With an API key, and a chat model that cannot be loaded (so asking answers an error)."""
    broken = workdir / "broken.gguf"
    broken.write_bytes(b"this is not a GGUF file")
    args = ["--embedder", "hashing", "--no-index", "--api-key", KEY, "--model", str(broken), str(repo)]
    with RagpilotProcess(args, home, workdir / "keyed.log") as proc:  # --no-index: serves the index as built
        yield proc


@pytest.fixture(scope="module")
def browser(workdir):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={workdir / 'chrome-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(1200, 800)
    yield driver
    driver.quit()


def wait(driver, seconds: float = 30) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def open_page(driver, url: str, view: str = "search") -> None:
    driver.get("about:blank")  # a fresh document: the same URL with a fragment would not reload
    driver.get(f"{url}/#{view}")
    driver.execute_script("sessionStorage.clear()")
    wait(driver).until(EC.visibility_of_element_located((By.ID, f"view-{view}")))


def search(driver, query: str, mode: str = "hybrid") -> None:
    box = driver.find_element(By.ID, "search-query")
    box.clear()
    box.send_keys(query)
    Select(driver.find_element(By.ID, "search-mode")).select_by_value(mode)
    driver.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    wait(driver).until(lambda d: "Searching" not in d.find_element(By.ID, "search-results").text)


def screenshot(driver, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(SCREENSHOTS) / name))


# ----- the three views ------------------------------------------------------------------------------
def test_search_shows_the_expected_file_and_its_link_opens_the_file_at_the_line(server, browser):
    open_page(browser, server.url)
    search(browser, "RetryPolicy should_retry", mode="lexical")
    first = browser.find_element(By.CSS_SELECTOR, "#search-results .hit .loc")
    assert first.text.startswith("src/http/retry.py:")
    assert browser.find_elements(By.CSS_SELECTOR, "#search-results .hit pre.hl .k")  # highlighted tokens
    screenshot(browser, "search.png")
    start = int(first.text.rsplit(":", 1)[1].split("-")[0])
    first.click()
    target = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#file-body #L{start}.target")))
    assert "class RetryPolicy" in browser.find_element(By.ID, "file-body").text
    assert "hit" in target.get_attribute("class")


def test_files_mode_lists_files_once_each(server, browser):
    open_page(browser, server.url)
    search(browser, "retry request client", mode="files")
    paths = [e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, "#search-results .hit")]
    assert paths and len(paths) == len(set(paths))
    assert "files ranked by their matching chunks" in browser.find_element(By.ID, "search-results").text


def test_ask_streams_an_answer_from_the_packaged_model_and_links_its_sources(server, browser):
    open_page(browser, server.url, "ask")
    browser.find_element(By.ID, "ask-question").send_keys("What does RetryPolicy.should_retry check?")
    tokens = browser.find_element(By.ID, "ask-max-tokens")
    tokens.clear()
    tokens.send_keys("48")
    browser.find_element(By.ID, "ask-button").click()
    answer = browser.find_element(By.ID, "ask-answer")
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    while answer.get_attribute("data-done") != "true":  # the text grows while the stream comes in
        assert time.monotonic() < deadline, browser.find_element(By.ID, "ask-status").text
        seen.add(len(answer.text))
        time.sleep(0.02)
    assert len(seen - {0}) >= 2, f"the answer appeared at once, not streamed: {seen}"
    assert answer.text.strip() and "Sources:" not in answer.text
    sources = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#ask-sources a.file-link")]
    assert any(s.startswith("src/http/retry.py:") for s in sources), sources
    screenshot(browser, "ask.png")
    browser.find_element(By.CSS_SELECTOR, "#ask-sources a.file-link").click()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#file-body .line.target")))


def test_health_shows_counts_that_match_status(server, browser):
    status = httpx.get(f"{server.url}/status", timeout=10).json()["repos"][0]
    open_page(browser, server.url, "health")
    files = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#health-body [data-fact="files"]')))
    assert int(files.text) == status["files"] > 0
    assert int(browser.find_element(By.CSS_SELECTOR, '#health-body [data-fact="chunks"]').text) == status["chunks"]
    assert browser.find_element(By.CSS_SELECTOR, '#health-body [data-fact="coverage"]').text.startswith("100.0%")
    assert browser.find_elements(By.CSS_SELECTOR, '#health-body svg.bars rect')
    skipped = browser.find_element(By.CSS_SELECTOR, '#health-body svg[aria-label="skipped files by reason"]')
    assert "secret" in skipped.text and "binary" in skipped.text, skipped.text
    screenshot(browser, "health.png")


def test_a_skip_reason_opens_to_the_list_of_its_skipped_files(server, browser):
    open_page(browser, server.url, "health")
    reason = wait(browser).until(EC.element_to_be_clickable(
        (By.CSS_SELECTOR, '#health-body details.skipped[data-reason="secret"] summary')))
    assert not browser.find_elements(By.CSS_SELECTOR, "#health-body .skipped-paths")  # fetched on demand
    reason.click()
    listed = wait(browser).until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, '#health-body .skipped-paths[data-reason="secret"]')))
    assert listed.text.split() == ["app/notify.py"]
    browser.find_element(By.CSS_SELECTOR, '#health-body details.skipped[data-reason="binary"] summary').click()
    binary = wait(browser).until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, '#health-body .skipped-paths[data-reason="binary"]')))
    assert "app/blob.py" in binary.text.split()


# ----- a start-up pass, watched live -----------------------------------------------------------------
MANY_FILES = 240  # indexed one file a commit (RAGPILOT_FILES_PER_BATCH=1): some seconds to watch


@pytest.fixture
def indexing_server(workdir):
    """A server whose start-up pass indexes MANY_FILES files from scratch while the test watches."""
    root = workdir / "many"
    for i in range(MANY_FILES):
        folder = root / f"pkg{i % 12}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod_{i}.py").write_text(
            f"def step_{i}(x):\n    return x + {i}\n\n\nclass Stage{i}:\n    def run(self):\n        return {i}\n",
            encoding="utf-8")
    args = ["--embedder", "hashing", "--no-watch", str(root)]
    with RagpilotProcess(args, workdir / "many-home", workdir / "many.log",
                         env={"RAGPILOT_FILES_PER_BATCH": "1"}) as proc:
        yield proc


def health_loads(driver) -> int:
    return driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/ui/health')).length")


READ_PROGRESS = """
const body = document.getElementById('health-body'), text = (sel) => body.querySelector(sel)?.textContent.trim();
return {max: body.querySelector('.progress progress')?.getAttribute('max'), ready: !!body.querySelector('.phase-ready'),
        progress: text('[data-fact="progress"]'), eta: text('[data-fact="eta"]')};"""


def test_health_shows_live_progress_with_an_eta_during_a_start_up_pass_then_ready(indexing_server, browser):
    open_page(browser, indexing_server.url, "health")  # read in one script: the view is re-rendered each second
    wait(browser).until(lambda d: d.execute_script(READ_PROGRESS)["max"])
    assert int(browser.execute_script(READ_PROGRESS)["max"]) == MANY_FILES
    seen_done, etas = set(), set()
    deadline = time.monotonic() + 180
    while not (now := browser.execute_script(READ_PROGRESS))["ready"]:  # no click: the page polls
        assert time.monotonic() < deadline, indexing_server.log()
        seen_done.add(now["progress"])
        etas.add(now["eta"])
        time.sleep(0.1)
    assert len({t for t in seen_done if f"/ {MANY_FILES} files" in t}) >= 2, seen_done  # the bar moved
    assert "ETA estimating…" in etas, etas
    assert any(re.fullmatch(r"ETA \d+ (s|min \d\d s) \(\d+\.\d files/s\)", t) for t in etas), etas
    assert not browser.find_elements(By.CSS_SELECTOR, "#health-body [data-progress]")
    assert int(browser.find_element(By.CSS_SELECTOR, '#health-body [data-fact="files"]').text) == MANY_FILES
    loads = health_loads(browser)
    time.sleep(2.5)
    assert health_loads(browser) == loads  # polling stopped once the pass was through


def test_a_file_link_outside_the_repository_is_refused(server, browser):
    browser.get(f"{server.url}/ui/file?path=../outside.txt")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert json.loads(text)["error"]["type"] == "invalid_request_error"
    assert "not part of any repository" not in text
    open_page(browser, server.url)
    browser.execute_script("""
        const a = document.createElement('a'); a.className = 'file-link'; a.id = 'evil';
        a.href = '/ui/file?path=' + encodeURIComponent('/etc/passwd') + '#L1'; a.textContent = 'x';
        document.getElementById('search-results').appendChild(a);""")
    browser.find_element(By.ID, "evil").click()
    refused = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#file-body .bad")))
    assert "not an indexed file" in refused.text and "root:" not in browser.page_source


# ----- the API key ----------------------------------------------------------------------------------
def test_the_page_works_with_an_api_key(keyed_server, browser):
    open_page(browser, keyed_server.url)  # the shell itself loads without the key
    search(browser, "RetryPolicy should_retry", mode="lexical")
    assert "API key" in browser.find_element(By.ID, "search-results").text
    browser.find_element(By.ID, "api-key").send_keys(KEY)
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    search(browser, "RetryPolicy should_retry", mode="lexical")
    assert browser.find_element(By.CSS_SELECTOR, "#search-results .hit .loc").text.startswith("src/http/retry.py:")
    assert browser.execute_script("return sessionStorage.getItem('ragpilot-api-key')") == KEY
    browser.find_element(By.CSS_SELECTOR, "#search-results .hit .loc").click()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#file-body .line.target")))
    browser.get(f"{keyed_server.url}/#health")  # a reload keeps the key for this tab
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#health-body [data-fact="files"]')))


def test_asking_without_a_usable_chat_model_shows_the_servers_message(keyed_server, browser):
    open_page(browser, keyed_server.url, "ask")
    browser.execute_script(f"sessionStorage.setItem('ragpilot-api-key', '{KEY}')")
    browser.find_element(By.ID, "ask-question").send_keys("What does RetryPolicy check?")
    browser.find_element(By.ID, "ask-button").click()
    status = browser.find_element(By.ID, "ask-status")
    wait(browser).until(lambda d: "bad" in status.get_attribute("class"))
    message = httpx.post(f"{keyed_server.url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                         json={"model": "ragpilot", "messages": [{"role": "user", "content": "x"}]}).json()
    assert status.text == message["error"]["message"] and status.text

