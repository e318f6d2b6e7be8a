"""Bad input to the `ragpilot` command, as a user runs it (real subprocesses, the hashing embedder).

Each case ends in one of two ways: a one-line ``error:`` and a non-zero exit, or a correct index with
the problem counted in the summary. Never a traceback.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import planted_secrets as planted
import pytest

from ragpilot.indexer.chunking import chunk_file
from ragpilot.indexer.embedders import create_embedder
from ragpilot.indexer.pipeline import Indexer
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore

HASHING = ("--embedder", "hashing")


def ragpilot(*args: str, home: Path, cwd: Path | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAGPILOT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=preexec_fn)


def index_json(repo: Path, home: Path, *extra: str) -> dict:
    result = ragpilot("index", str(repo), *HASHING, "--json", *extra, home=home)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert needle in errors[0], result.stderr


def index_paths(home: Path, repo: Path) -> set[str]:
    index_dir = IndexSettings(home=home).index_dir_for(repo)
    return {key[0] for key in IndexStore.open(index_dir).all_keys()}


def index_rows(home: Path, repo: Path) -> list[dict]:
    index_dir = IndexSettings(home=home).index_dir_for(repo)
    return IndexStore.open(index_dir).table.to_arrow().select(["path", "start_line", "end_line", "content"]).to_pylist()


# ----- the path arguments --------------------------------------------------------------------------


def _loop(tmp: Path) -> str:
    os.symlink(tmp / "loop_b", tmp / "loop_a")
    os.symlink(tmp / "loop_a", tmp / "loop_b")
    return str(tmp / "loop_a")


@pytest.mark.parametrize("make_args, needle", [
    (lambda t: ("index", str(t / "missing")), "no such directory"),
    (lambda t: ("index", str(t / "repo" / "a.py")), "not a directory"),
    (lambda t: ("index", _loop(t)), "looping symlink"),
    (lambda t: ("index", ""), "the path is empty"),
    (lambda t: ("index", str(t / "repo"), "--index-dir", ""), "the path is empty"),
    (lambda t: ("index", str(t / "repo"), "--index-dir", str(t / "repo")), "holds the repository"),
    (lambda t: ("index", str(t / "repo"), "--index-dir", str(t)), "holds the repository"),
    (lambda t: ("index", str(t / "repo"), "--index-dir", str(t / "repo" / "a.py" / "idx")), "Not a directory"),
    (lambda t: ("search", "x", "--repo", str(t / "missing")), "no such directory"),
    (lambda t: ("search", "x", "--repo", ""), "the path is empty"),
    (lambda t: ("search", "   ", "--repo", str(t / "repo")), "the query is empty"),
    (lambda t: ("status", str(t / "missing")), "no such directory"),
], ids=["missing-path", "file-not-dir", "symlink-loop", "empty-path", "empty-index-dir", "index-dir-is-repo",
        "index-dir-holds-repo", "index-dir-under-a-file", "search-missing-repo", "search-empty-repo",
        "empty-query", "status-missing"])
def test_a_bad_path_argument_is_one_clear_error_line_and_nothing_is_written(tmp_path, make_args, needle):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.py").write_text("def a():\n    return 1\n")
    args = make_args(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = ragpilot(*args, *(HASHING if args[0] == "index" else ()), home=tmp_path / "home", cwd=tmp_path)
    assert_one_line_error(result, needle)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if not p.is_relative_to(tmp_path / "home"))
    assert after == before  # nothing was created next to (or inside) the repository


def test_a_negative_max_file_bytes_is_refused_rather_than_dropping_every_file(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("def a():\n    return 1\n")
    index_json(repo, tmp_path / "home")
    result = ragpilot("index", str(repo), *HASHING, "--max-file-bytes", "-5", home=tmp_path / "home")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert index_paths(tmp_path / "home", repo) == {"a.py"}


# ----- awkward files in the repository ---------------------------------------------------------------


def test_awkward_files_are_skipped_and_counted_by_reason_while_the_rest_is_indexed(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "good.py").write_text("def findable_function():\n    return 42\n")
    (repo / "legacy.py").write_bytes('# caf\xe9 cr\xe8me\nNAME = "\xe9t\xe9"\n'.encode("cp1252"))  # decodable
    (repo / "undecodable.txt").write_bytes(b"\x81\x8d\x8f\x90\x9d" * 50)  # undefined in cp1252, not UTF-8
    (repo / "blob.dat").write_bytes(bytes(range(256)) * 40)
    with open(repo / "huge.py", "wb") as fh:  # sparse 50 MB: only its size is ever looked at
        fh.truncate(50 * 1024 * 1024)
    (repo / "empty.py").write_text("")
    os.symlink("loop_b", repo / "loop_a")
    os.symlink("loop_a", repo / "loop_b")
    os.symlink(".", repo / "self")
    os.symlink("/etc/passwd", repo / "outside.txt")
    os.mkfifo(repo / "pipe.py")  # opening it would block forever

    summary = index_json(repo, tmp_path / "home")

    reasons = summary["skipped_by_reason"]
    assert reasons.get("binary") == 1 and reasons.get("not-utf8") == 1 and reasons.get("too-large") == 1
    assert reasons.get("symlink") == 4 and reasons.get("special") == 1
    assert summary["files_skipped"] == sum(reasons.values())
    assert index_paths(tmp_path / "home", repo) == {"good.py", "legacy.py"}
    legacy = [r["content"] for r in index_rows(tmp_path / "home", repo) if r["path"] == "legacy.py"]
    assert "café crème" in "".join(legacy)

    hits = json.loads(ragpilot("search", "findable_function", "--json", "--repo", str(repo),
                               home=tmp_path / "home").stdout)
    assert hits[0]["path"] == "good.py"


def _drop_file_access_override() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH from the bounding set,
    so root is refused a chmod 000 file like anyone else."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(97)


def test_unreadable_files_and_folders_are_counted_and_the_rest_is_indexed(tmp_path):
    repo = tmp_path / "repo"
    (repo / "locked_dir").mkdir(parents=True)
    (repo / "open.py").write_text("def readable():\n    return 1\n")
    (repo / "locked.py").write_text("def unreadable_marker():\n    return 2\n")
    (repo / "locked_dir" / "inner.py").write_text("def inner_marker():\n    return 3\n")
    (repo / "locked.py").chmod(0)
    (repo / "locked_dir").chmod(0)
    home = tmp_path / "home"
    try:
        preexec = _drop_file_access_override if os.geteuid() == 0 else None
        result = ragpilot("index", str(repo), *HASHING, "--json", home=home, preexec_fn=preexec)
        if result.returncode == 97:
            pytest.skip("running as root without CAP_SETPCAP: chmod 000 cannot be made to refuse a read")
    finally:
        (repo / "locked_dir").chmod(0o755)
        (repo / "locked.py").chmod(0o644)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["skipped_by_reason"].get("unreadable") == 2
    assert index_paths(home, repo) == {"open.py"}


def test_an_empty_repository_and_a_plain_folder_index_and_search_cleanly(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    plain = tmp_path / "plain"  # not a git work tree
    plain.mkdir()
    (plain / "tool.py").write_text("def plain_folder_tool():\n    return 'ok'\n")
    home = tmp_path / "home"

    assert index_json(empty, home)["chunks_total"] == 0
    result = ragpilot("search", "anything", "--json", "--repo", str(empty), home=home)
    assert result.returncode == 0 and json.loads(result.stdout) == []

    assert index_json(plain, home)["files_indexed"] == 1
    result = ragpilot("search", "plain_folder_tool", "--json", cwd=plain, home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["path"] == "tool.py"


# ----- very long files -------------------------------------------------------------------------------


def _long_files(repo: Path) -> dict[str, str]:
    files = {
        "long.py": "".join(f"value_{i} = compute({i}, step={i % 7})\n" for i in range(10_000)),
        # One 200,000+ character line of real words (a generated table): no newline to split at.
        "one_line.py": "TABLE = [" + ", ".join(f'"item_{i}"' for i in range(20_000)) + "]",
    }
    for name, text in files.items():
        (repo / name).write_text(text)
    assert len(files["one_line.py"]) > 200_000 and "\n" not in files["one_line.py"]
    return files


def test_a_ten_thousand_line_file_and_a_200k_character_line_are_covered_within_the_budget(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    files = _long_files(repo)
    summary = index_json(repo, tmp_path / "home")
    assert summary["files_indexed"] == 2 and summary["files_skipped"] == 0

    embedder = create_embedder("hashing")
    budget = embedder.token_budget()
    rows = index_rows(tmp_path / "home", repo)
    assert all(embedder.count_tokens(r["content"]) <= budget for r in rows)

    long_rows = sorted((r for r in rows if r["path"] == "long.py"), key=lambda r: r["start_line"])
    covered = set()
    for r in long_rows:
        covered.update(range(r["start_line"], r["end_line"] + 1))
    assert covered == set(range(1, 10_001))
    assert "\n".join(r["content"] for r in long_rows).splitlines() == files["long.py"].splitlines()

    line_rows = [r for r in rows if r["path"] == "one_line.py"]
    assert len(line_rows) > 1 and all(r["start_line"] == r["end_line"] == 1 for r in line_rows)
    pieces = sorted(r["content"] for r in line_rows)
    assert sum(map(len, pieces)) >= len(files["one_line.py"]) - len(line_rows)  # split, nothing dropped
    text = files["one_line.py"]
    assert all(p in text for p in pieces)
    # Every item of the line is in some piece (coverage, whatever the split points are).
    assert all(any(f'"item_{i}"' in p for p in pieces) for i in range(0, 20_000, 997))

    # What the embedder sees (path header + code) fits its window too.
    for name, text in files.items():
        chunks = chunk_file(name, text, budget=budget, count_tokens=embedder.count_tokens)
        assert all(embedder.count_tokens(c.embed_text) <= budget for c in chunks)


def test_the_200k_character_line_fits_the_real_minilm_window(tmp_path):
    embedder = create_embedder("minilm-onnx")
    budget = embedder.token_budget()
    text = "TABLE = [" + ", ".join(f'"item_{i}"' for i in range(20_000)) + "]"
    chunks = chunk_file("one_line.py", text, budget=budget, count_tokens=embedder.count_tokens)
    assert len(chunks) > 1
    assert all(embedder.count_tokens(c.embed_text) <= budget for c in chunks)


# ----- awkward file names: indexed, renamed and deleted without ghosts ------------------------------

WEIRD_NAMES = [
    "with space.py", "ünïcødé 日本語.py", "emoji 🎉.py", "new\nline.py", "it's.py", "''.py",
    "x'); DROP TABLE chunks; --.py", 'double"quote.py', "back\\slash.py", "\\'.py", "pct%_under.py",
    "tab\tname.py", "[red]markup.py", "-rf.py", "dir with 'quote'/inner file.py",
]


def _write_weird(repo: Path) -> dict[str, str]:
    marks = {}
    for i, name in enumerate(WEIRD_NAMES):
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        marks[name] = f"weird_marker_{i}"
        path.write_text(f"def weird_marker_{i}():\n    return {i}\n")
    return marks


def test_weird_file_names_are_indexed_then_renamed_and_deleted_without_ghosts(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    home = tmp_path / "home"
    _write_weird(repo)
    assert index_json(repo, home)["files_indexed"] == len(WEIRD_NAMES)
    assert index_paths(home, repo) == set(WEIRD_NAMES)

    renamed = set()
    for i, name in enumerate(WEIRD_NAMES):
        if i % 2:
            (repo / name).unlink()
        else:
            new = (repo / name).with_name("moved " + Path(name).name)
            (repo / name).rename(new)
            renamed.add(new.relative_to(repo).as_posix())
    summary = index_json(repo, home)
    assert summary["files_deleted"] == len(WEIRD_NAMES)
    assert index_paths(home, repo) == renamed  # no row of an old name survives

    hits = json.loads(ragpilot("search", "weird_marker_0", "--json", "-k", "50", "--repo", str(repo),
                               home=home).stdout)
    assert {h["path"] for h in hits} <= renamed
    shown = ragpilot("search", "weird_marker_12", "-k", "50", "--repo", str(repo), home=home)
    assert shown.returncode == 0 and "moved [red]markup.py" in shown.stdout  # printed literally

    for rel in renamed:
        (repo / rel).unlink()
    assert index_json(repo, home)["chunks_total"] == 0


def test_the_watcher_path_renames_and_deletes_weird_names_without_ghosts(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _write_weird(repo)
    indexer = Indexer(repo, IndexSettings(index_dir=tmp_path / "idx", embedder="hashing")).open()
    try:
        indexer.run_to_end()
        events, renamed = [], set()
        for name in WEIRD_NAMES:
            new = (repo / name).with_name("R_" + Path(name).name)
            (repo / name).rename(new)
            rel = new.relative_to(repo).as_posix()
            events += [name, rel]
            renamed.add(rel)
        indexer.update(events)
        assert {k[0] for k in indexer.store.all_keys()} == renamed
        assert set(indexer.catalog.all()) == renamed
        for rel in renamed:
            (repo / rel).unlink()
        indexer.update(renamed)
        assert indexer.store.count_chunks() == 0 and indexer.catalog.count() == 0
    finally:
        indexer.close()


def test_a_query_that_is_not_utf8_is_searched_not_a_crash(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("def a():\n    return 1\n")
    index_json(repo, tmp_path / "home")
    env = {**os.environ, "RAGPILOT_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "ragpilot.serve.cli", "search", b"caf\xe9 \xff", "--json",
                             "--repo", str(repo)], env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)


# ----- planted secrets never reach the index, a hit or the terminal ---------------------------------

# Realistic-looking fake credentials, split so this file itself does not look like a leak.
AWS_KEY_ID = "AKIA" + "Q4X7Z2M9K3B8N5W1"
AWS_SECRET = "wJ8k3Lm" + "Q9vX2pR7tY5uB1nC4eF6gH0jK8sD2aZ"
PEM_BODY = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Bc5Kd9vS4cZ" + "8bXlqWn0yR6tPuE1fGhJ2kL3mN4oP5qR6sT7u"
PRIVATE_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY[::-1]}\n-----END RSA PRIVATE KEY-----\n"
DB_PASSWORD = "Xk83" + "jdQ9pLm2Rt"
YAML_TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
YAML_API_KEY = "sk9Fj2" + "Lq8Rz4Tx6Vb1Nm3"

SECRETS = [AWS_KEY_ID, AWS_SECRET, PEM_BODY[:40], DB_PASSWORD, YAML_TOKEN, YAML_API_KEY]
PLANTED = {
    "app/aws.py": (f'"""Uploads reports to S3."""\n\nAWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"\n'
                   f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n\n\ndef upload_report(path):\n    return path\n'),
    "deploy/server_key.py": f'SERVER_KEY = """\n{PRIVATE_KEY}"""\n\n\ndef tls_setup():\n    return SERVER_KEY\n',
    "deploy/id_rsa": PRIVATE_KEY,
    ".env": f"DATABASE_URL=postgres://app:{DB_PASSWORD}@db:5432/app\nDB_PASSWORD={DB_PASSWORD}\n",
    "config/app.yaml": f"service:\n  name: uploader\n  api_key: {YAML_API_KEY}\n  github_token: {YAML_TOKEN}\n",
}
CLEAN = {"app/report.py": "def upload_report_summary(rows):\n    \"\"\"Summarise the S3 upload.\"\"\"\n"
                          "    return len(rows)\n"}
QUERIES = ["AWS_SECRET_ACCESS_KEY upload_report PRIVATE KEY tls_setup SERVER_KEY",
           "DB_PASSWORD DATABASE_URL api_key github_token service uploader", f"{AWS_KEY_ID} {YAML_TOKEN}"]


def all_text_columns(home: Path, repo: Path) -> list[dict]:
    table = IndexStore.open(IndexSettings(home=home).index_dir_for(repo)).table.to_arrow()
    return table.select([c for c in table.column_names if c != "vector"]).to_pylist()


def test_planted_secrets_reach_neither_the_index_nor_a_search_hit_nor_the_terminal(tmp_path):
    """This file's planted set plus the shared one (planted_secrets.py): 48 values in all."""
    repo = tmp_path / "repo"
    kept = {**CLEAN, **planted.REDACTED_FILES, **planted.ORDINARY}
    for rel, text in {**PLANTED, **planted.SKIPPED_FILES, **kept}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    home = tmp_path / "home"
    shown = ragpilot("index", str(repo), *HASHING, home=home)
    assert shown.returncode == 0, shown.stderr
    assert (f"secrets redacted: {len(planted.V)} values in {len(planted.REDACTED_FILES)} indexed files"
            in shown.stdout)
    summary = index_json(repo, home, "--rebuild")
    assert summary["skipped_by_reason"].get("secret") == len(PLANTED) + len(planted.SKIPPED_FILES)
    assert summary["files_redacted"] == len(planted.REDACTED_FILES)
    assert summary["secrets_redacted"] == len(planted.V)
    secrets = SECRETS + planted.VALUES

    stored = all_text_columns(home, repo)
    assert {r["path"] for r in stored} == set(kept)  # redacted files stay searchable
    leaks = planted.leaked(secrets, json.dumps(stored))
    shown_chunks = set()
    for query in QUERIES + planted.QUERIES[:2]:  # hybrid = lexical + dense; k=50 returns every indexed chunk
        as_json = ragpilot("search", query, "--json", "-k", "50", "--repo", str(repo), home=home)
        shown = ragpilot("search", query, "-k", "50", "--repo", str(repo), home=home)
        assert as_json.returncode == 0 and shown.returncode == 0, as_json.stderr + shown.stderr
        hits = json.loads(as_json.stdout)
        assert hits and {h["path"] for h in hits} <= set(kept)
        shown_chunks |= {(h["path"], h["start_line"]) for h in hits}
        terminal = shown.stdout + shown.stderr
        leaks += planted.leaked(secrets, as_json.stdout + terminal + "".join(terminal.split()))
    assert shown_chunks == {(r["path"], r["start_line"]) for r in stored}  # every stored chunk was shown
    assert leaks == []
