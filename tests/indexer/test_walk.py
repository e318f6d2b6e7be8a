"""Which files get indexed: ignore files, built-in skips, symlinks, odd names, the watcher's one-path API."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ragpilot.indexer import walk as walk_mod
from ragpilot.indexer.walk import IgnoreRules, entry_for, walk_repo


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def kept(root: Path, **kw) -> set[str]:
    return {e.rel for e in walk_repo(root, **kw).files}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    return root


# ----- ignore files ---------------------------------------------------------------------------


def test_nested_gitignores_apply_to_their_own_directory_with_negation_and_anchors(repo: Path):
    write(repo, {
        ".gitignore": "*.log\n!keep.log\n/top.txt\ncache/\n",
        "app.py": "x", "x.log": "x", "keep.log": "x", "top.txt": "x", "cache/c.py": "x",
        "sub/.gitignore": "!debug.log\n*.bak\n",
        "sub/debug.log": "x", "sub/other.log": "x", "sub/top.txt": "x", "sub/cache": "a file, not a dir",
        "sub/y.bak": "x", "sub/deep/.gitignore": "!*.bak\n", "sub/deep/z.bak": "x",
        "other/y.bak": "x",
    })
    files = kept(repo)
    assert {"app.py", "keep.log", "sub/debug.log", "sub/top.txt", "sub/cache", "sub/deep/z.bak",
            "other/y.bak"} <= files
    assert not {"x.log", "top.txt", "cache/c.py", "sub/other.log", "sub/y.bak"} & files


def test_kept_files_match_what_git_itself_considers_not_ignored(repo: Path):
    write(repo, {
        ".gitignore": ("*.log\n!keep.log\n/anchored.txt\ncache/\ndocs/**/*.tmp\n\\#hash.txt\n"
                       "logs/*\n!logs/.keep\n"),
        "a.py": "x", "x.log": "x", "keep.log": "x", "anchored.txt": "x", "sub/anchored.txt": "x",
        "cache/c.py": "x", "sub/cache": "x", "docs/a/b/t.tmp": "x", "docs/t.tmp": "x", "docs/t.md": "x",
        "#hash.txt": "x", "logs/.keep": "", "logs/today.txt": "x",
        "sub/.gitignore": "!debug.log\n*.bak\n/local.txt\n", "sub/debug.log": "x", "sub/x.log": "x",
        "sub/y.bak": "x", "sub/local.txt": "x", "sub/deep/local.txt": "x",
        "sub/deep/.gitignore": "!*.bak\n", "sub/deep/z.bak": "x",
        "excluded_by_info.txt": "x", "sub/excluded_by_info.txt": "x", "name with space.txt": "x",
    })
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".git" / "info").mkdir(parents=True, exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("excluded_by_info.txt\n")
    out = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"], cwd=repo, check=True,
                         capture_output=True).stdout.decode()
    git_view = {p for p in out.split("\0") if p}
    assert "excluded_by_info.txt" not in git_view  # the exclude file is really in force
    assert kept(repo) == git_view


def test_ragpilotignore_can_reinclude_what_gitignore_excluded_and_exclude_more(repo: Path):
    write(repo, {
        ".gitignore": "generated/\n*.snap\n",
        ".ragpilotignore": "!generated/\ndocs/drafts/\n",
        "generated/api.py": "x", "tests/__snapshots__/a.snap": "x",
        "docs/drafts/idea.md": "x", "docs/guide.md": "x",
        "pkg/.ragpilotignore": "!*.snap\n", "pkg/b.snap": "x",
    })
    files = kept(repo)
    assert "generated/api.py" in files  # re-included by .ragpilotignore
    assert "pkg/b.snap" in files  # a nested .ragpilotignore beats the root .gitignore
    assert "tests/__snapshots__/a.snap" not in files
    assert "docs/drafts/idea.md" not in files and "docs/guide.md" in files


def test_ragpilotignore_can_bring_back_a_builtin_directory_but_never_vcs_dirs(repo: Path):
    write(repo, {".ragpilotignore": "!build/\n!.git/\n", "build/gen.py": "x", "dist/x.py": "x"})
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    files = kept(repo)
    assert "build/gen.py" in files
    assert "dist/x.py" not in files
    assert not any(f.startswith(".git/") for f in files)


def test_ignored_directory_is_counted_once_and_not_descended(repo: Path, monkeypatch):
    write(repo, {".gitignore": "out/\n", **{f"out/deep/f{i}.py": "x" for i in range(20)}, "a.py": "x"})
    listed: list[str] = []
    real_scandir = os.scandir

    def spy(path):
        listed.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(walk_mod.os, "scandir", spy)
    result = walk_repo(repo)
    assert result.skipped.by_reason == {"ignored": 1}
    assert result.skipped.examples["ignored"] == ["out"]
    assert not any("out" in Path(p).parts for p in listed)


# ----- built-in skips -------------------------------------------------------------------------


def test_builtin_dirs_and_virtualenvs_are_skipped_without_being_listed(repo: Path, monkeypatch):
    write(repo, {
        "a.py": "x",
        "node_modules/lodash/index.js": "x", "node_modules/lodash/sub/x.js": "x",
        "src/__pycache__/a.cpython-311.pyc": b"\x00", ".venv/lib/site.py": "x",
        "myenv/pyvenv.cfg": "home = /usr/bin", "myenv/lib/python3.11/site-packages/x.py": "x",
        "target/debug/out.rs": "x", ".tox/py311/x.py": "x", "pkg.egg-info/PKG-INFO": "x",
        ".hg/store/x": "x", ".svn/entries": "x",
    })
    listed: list[str] = []
    real_scandir = os.scandir
    monkeypatch.setattr(walk_mod.os, "scandir", lambda p: (listed.append(os.fspath(p)), real_scandir(p))[1])
    result = walk_repo(repo)
    assert {e.rel for e in result.files} == {"a.py"}
    assert result.skipped.by_reason == {"builtin-dir": 9}
    never_listed = ("node_modules", "__pycache__", ".venv", "target", ".tox", ".hg", ".svn")
    assert not any(set(Path(p).parts) & set(never_listed) for p in listed)
    # myenv is listed once (that is how pyvenv.cfg is seen) but its contents are not
    assert not any(p.endswith(("myenv/lib", "site-packages")) for p in listed)


def test_lock_files_binaries_and_minified_names_are_skipped_by_name(repo: Path):
    write(repo, {
        "package-lock.json": "{}", "yarn.lock": "x", "poetry.lock": "x", "Cargo.lock": "x", "uv.lock": "x",
        "pnpm-lock.yaml": "x", "go.sum": "x",
        "logo.png": "not really a png", "lib.so": "x", "model.onnx": "x", "archive.tar.gz": "x",
        "app.min.js": "x", "app.js.map": "x", "styles.min.css": "x",
        "main.py": "x", "package.json": "{}", "Cargo.toml": "x",
    })
    result = walk_repo(repo)
    assert {e.rel for e in result.files} == {"main.py", "package.json", "Cargo.toml"}
    assert result.skipped.by_reason == {"lockfile": 7, "binary": 4, "minified": 3}


def test_files_over_the_size_cap_are_skipped_and_the_cap_is_configurable(repo: Path):
    write(repo, {"small.py": "x" * 100, "big.py": "x" * 5000})
    result = walk_repo(repo, max_file_bytes=1000)
    assert [e.rel for e in result.files] == ["small.py"]
    assert result.skipped.by_reason == {"too-large": 1}
    assert kept(repo, max_file_bytes=10_000) == {"small.py", "big.py"}
    assert entry_for(repo, "big.py", IgnoreRules(repo, max_file_bytes=1000)) is None


def test_secret_files_are_skipped_by_name_unless_scanning_is_turned_off(repo: Path):
    write(repo, {
        ".env": "A=1", ".env.production": "A=1", ".env.example": "A=", "server.pem": "x", "tls.key": "x",
        "id_rsa": "x", "id_ed25519.pub": "x", ".npmrc": "x", "credentials.json": "{}",
        ".aws/credentials": "x", ".docker/config.json": "{}", "release.keystore": "x",
        "credentials.py": "def load(): ...", "env.py": "x",
    })
    result = walk_repo(repo)
    assert {e.rel for e in result.files} == {".env.example", "credentials.py", "env.py"}
    assert result.skipped.by_reason == {"secret": 11}
    off = IgnoreRules(repo, scan_secrets=False)
    assert off.skip_reason(".env", False) is None


# ----- symlinks and odd names -----------------------------------------------------------------


def test_symlink_loops_and_links_out_of_the_repo_are_counted_not_followed(repo: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    write(outside, {"secret.txt": "x", "big/tree.py": "x"})
    write(repo, {"a.py": "x", "pkg/b.py": "x"})
    (repo / "out_dir").symlink_to(outside, target_is_directory=True)
    (repo / "out_file.txt").symlink_to(outside / "secret.txt")
    (repo / "self").symlink_to(repo / "self")
    (repo / "loop_a").symlink_to(repo / "loop_b")
    (repo / "loop_b").symlink_to(repo / "loop_a")
    (repo / "pkg" / "up").symlink_to(repo, target_is_directory=True)  # a cycle through the root
    (repo / "dangling").symlink_to(repo / "nowhere")
    (repo / "alias.py").symlink_to(repo / "a.py")  # inside the repo: the target is indexed itself
    result = walk_repo(repo)
    assert {e.rel for e in result.files} == {"a.py", "pkg/b.py"}
    assert result.skipped.by_reason == {"symlink": 8}
    rules = IgnoreRules(repo)
    assert entry_for(repo, "out_dir/secret.txt", rules) is None
    assert entry_for(repo, "pkg/up/a.py", rules) is None
    assert entry_for(repo, "out_file.txt", rules) is None
    assert walk_repo(repo, rules=rules, subdir="out_dir").files == []


@pytest.mark.parametrize("name", ["with space.py", "ünïcödé.py", "日本語.md", "new\nline.txt", "-dash.py",
                                  "#hash.py", "!bang.py", "tab\there.txt", "[brackets].py", "*star*.py"])
def test_weird_file_names_are_walked_and_round_trip(repo: Path, name: str):
    write(repo, {f"dir with space/{name}": "content"})
    result = walk_repo(repo)
    assert [e.rel for e in result.files] == [f"dir with space/{name}"]
    entry = result.files[0]
    assert entry.abs.read_text() == "content"
    assert entry_for(repo, entry.rel, IgnoreRules(repo)) == entry


def test_gitignore_patterns_match_names_with_spaces_and_unicode(repo: Path):
    write(repo, {".gitignore": "my\\ notes.txt\nbrouillon-é.md\n", "my notes.txt": "x", "brouillon-é.md": "x",
                 "keep me.txt": "x"})
    assert kept(repo) == {".gitignore", "keep me.txt"}


# ----- counts, order, the watcher's API -------------------------------------------------------


def test_walk_is_sorted_and_counts_every_skip_by_reason(repo: Path):
    write(repo, {
        ".gitignore": "*.log\nignored_dir/\n", "b.py": "x", "a/z.py": "x", "a/b.py": "x", "A.md": "x",
        "x.log": "x", "y.log": "x", "ignored_dir/f.py": "x", "node_modules/p/i.js": "x",
        "yarn.lock": "x", "pic.jpg": "x", ".env": "x", "big.txt": "y" * 2000,
    })
    (repo / "link").symlink_to(repo / "b.py")
    result = walk_repo(repo, max_file_bytes=1000)
    rels = [e.rel for e in result.files]
    assert rels == sorted(rels) == [".gitignore", "A.md", "a/b.py", "a/z.py", "b.py"]
    assert result.skipped.by_reason == {"ignored": 3, "builtin-dir": 1, "lockfile": 1, "binary": 1,
                                        "secret": 1, "too-large": 1, "symlink": 1}
    assert result.skipped.total == 9
    e = result.files[-1]
    st = (repo / "b.py").stat()
    assert (e.size, e.mtime_ns, e.abs) == (st.st_size, st.st_mtime_ns, repo / "b.py")


def test_skip_reason_answers_for_any_path_including_inside_ignored_parents(repo: Path):
    write(repo, {".gitignore": "gen/\n", "sub/.gitignore": "*.tmp\n", "sub/x.py": "x"})
    rules = IgnoreRules(repo)
    assert rules.skip_reason("gen/deep/a.py", False) == "ignored"
    assert rules.skip_reason("sub/a.tmp", False) == "ignored"
    assert rules.skip_reason("other/a.tmp", False) is None
    assert rules.skip_reason("node_modules/x/y.js", False) == "builtin-dir"
    assert rules.skip_reason(".git/config", False) == "builtin-dir"
    assert rules.skip_reason("sub", True) is None
    assert rules.skip_reason("gen", True) == "ignored"


def test_reload_picks_up_an_edited_ignore_file(repo: Path):
    write(repo, {".gitignore": "*.tmp\n", "a.tmp": "x", "a.py": "x"})
    rules = IgnoreRules(repo)
    assert rules.skip_reason("a.tmp", False) == "ignored"
    assert rules.skip_reason("a.py", False) is None
    (repo / ".gitignore").write_text("*.py\n")
    rules.reload()
    assert rules.skip_reason("a.tmp", False) is None
    assert rules.skip_reason("a.py", False) == "ignored"
    (repo / "sub").mkdir()
    (repo / "sub" / ".ragpilotignore").write_text("!*.py\n")
    rules.reload()
    assert rules.skip_reason("sub/b.py", False) is None


def test_a_full_walk_sees_ignore_file_edits_without_an_explicit_reload(repo: Path):
    write(repo, {".gitignore": "*.tmp\n", "a.tmp": "x", "a.py": "x"})
    rules = IgnoreRules(repo)
    assert kept(repo, rules=rules) == {".gitignore", "a.py"}
    (repo / ".gitignore").write_text("*.py\n# longer, so size differs even within one mtime tick\n")
    assert kept(repo, rules=rules) == {".gitignore", "a.tmp"}


def test_is_ignore_file_recognises_every_ignore_source(repo: Path):
    rules = IgnoreRules(repo)
    assert rules.is_ignore_file(".gitignore")
    assert rules.is_ignore_file("a/b/.gitignore")
    assert rules.is_ignore_file("x/.ragpilotignore")
    assert rules.is_ignore_file(".git/info/exclude")
    assert not rules.is_ignore_file("gitignore.py")
    assert not rules.is_ignore_file("docs/.gitignore.md")


def test_entry_for_returns_none_for_gone_dirs_and_ignored_files(repo: Path):
    write(repo, {".gitignore": "*.tmp\n", "a.py": "x", "d/b.py": "x", "c.tmp": "x"})
    rules = IgnoreRules(repo)
    assert entry_for(repo, "a.py", rules).rel == "a.py"
    assert entry_for(repo, "d", rules) is None
    assert entry_for(repo, "c.tmp", rules) is None
    assert entry_for(repo, "missing.py", rules) is None


def test_walking_a_subdir_applies_the_parents_ignore_files(repo: Path):
    write(repo, {".gitignore": "*.tmp\n", "pkg/a.py": "x", "pkg/b.tmp": "x", "pkg/.gitignore": "c.py\n",
                 "pkg/c.py": "x", "other.py": "x", "gen/x.py": "x", ".ragpilotignore": "gen/\n"})
    rules = IgnoreRules(repo)
    assert [e.rel for e in walk_repo(repo, rules=rules, subdir="pkg").files] == ["pkg/.gitignore", "pkg/a.py"]
    sub = walk_repo(repo, rules=rules, subdir="gen")
    assert sub.files == [] and sub.skipped.by_reason == {"ignored": 1}


def test_a_plain_directory_without_git_works_and_a_git_worktree_file_is_fine(repo: Path):
    write(repo, {"a.py": "x", "sub/.git": "gitdir: /nonexistent/worktree\n", "sub/b.py": "x"})
    result = walk_repo(repo)
    assert {e.rel for e in result.files} == {"a.py", "sub/b.py"}
    assert result.skipped.by_reason == {"builtin-file": 1}


def test_a_file_name_that_is_not_valid_utf8_is_counted_not_indexed(repo: Path):
    write(repo, {"ok.py": "x"})
    with open(os.path.join(os.fsencode(repo), b"caf\xe9.py"), "wb") as fh:  # latin-1 bytes in the name
        fh.write(b"x = 1\n")
    result = walk_repo(repo)
    assert [e.rel for e in result.files] == ["ok.py"]
    assert result.skipped.by_reason == {"bad-name": 1}
