"""The team keys file: what it accepts, every mistake a clear start-up error naming the file and the
entry (never the secret), ``ragpilot keys hash`` / ``keys new``, and the settings that carry it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from ragpilot.indexer.errors import UsageError
from ragpilot.serve.app import create_app
from ragpilot.serve.cli import cli, main
from ragpilot.serve.keys import KeyRing, hash_key, load_keys_file
from ragpilot.serve.settings import ServeSettings

SECRET = "rpk_team-secret-42"
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()


def keys_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_key_is_given_by_its_sha256_or_itself_and_reads_the_repositories_listed(tmp_path):
    path = keys_file(tmp_path, f"""
[keys.payments]
sha256 = "{DIGEST.upper()}"
repos = ["api", "ledger", "api"]

[keys.platform]
key = "rpk_platform"
repos = ["*"]
""")
    payments, platform = load_keys_file(path)
    assert (payments.name, payments.repos, payments.reads_everything) == ("payments", ("api", "ledger"), False)
    assert platform.reads_everything
    ring = KeyRing.from_settings(None, path)
    assert ring.identify(SECRET.encode()) == payments and ring.identify(b"rpk_platform") == platform
    assert ring.identify(DIGEST.encode()) is None and ring.identify(b"") is None


BAD_FILES = [
    ("[keys.a\nsha256 = ", "is not valid TOML"),
    ("", "defines no keys"),
    ("[teams.a]\nkey = 'x'\n", "unknown top-level entry 'teams'"),
    (f'[keys.a]\nsha256 = "{DIGEST}"\nrepo = ["api"]\n', "unknown field 'repo'"),
    ('[keys.a]\nrepos = ["api"]\n', "give exactly one of sha256"),
    (f'[keys.a]\nkey = "{SECRET}"\nsha256 = "{DIGEST}"\nrepos = ["api"]\n', "give exactly one of sha256"),
    ('[keys.a]\nsha256 = "abc123"\nrepos = ["api"]\n', "sha256 must be 64 hex digits"),
    ('[keys.a]\nkey = " padded "\nrepos = ["api"]\n', "without spaces around it"),
    (f'[keys.a]\nsha256 = "{DIGEST}"\n', "repos must list"),
    (f'[keys.a]\nsha256 = "{DIGEST}"\nrepos = []\n', "repos must list"),
    (f'[keys.a]\nsha256 = "{DIGEST}"\nrepos = ["*", "api"]\n', '"*" already means every repository'),
    (f'[keys."a b"]\nsha256 = "{DIGEST}"\nrepos = ["api"]\n', "a key name is letters"),
    ("[keys]\na = 3\n", "must be a table"),
    (f'[keys.a]\nkey = "{SECRET}"\nrepos = ["api"]\n[keys.b]\nsha256 = "{DIGEST}"\nrepos = ["ledger"]\n',
     "keys 'a' and 'b' are the same key"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_a_mistake_in_the_keys_file_is_one_clear_error_naming_the_file(tmp_path, text, expected):
    path = keys_file(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        KeyRing.from_settings(None, path)
    message = str(caught.value)
    assert expected in message and str(path) in message, message
    assert SECRET not in message  # the error names the entry, never the key


def test_a_missing_keys_file_is_an_error_not_an_open_server(tmp_path):
    with pytest.raises(UsageError, match="cannot be read"):
        KeyRing.from_settings("master", tmp_path / "absent.toml")


def test_a_team_key_equal_to_the_single_api_key_is_refused(tmp_path):
    path = keys_file(tmp_path, f'[keys.a]\nsha256 = "{DIGEST}"\nrepos = ["api"]\n')
    with pytest.raises(UsageError, match="--api-key / RAGPILOT_API_KEY and 'a' are the same key"):
        KeyRing.from_settings(SECRET, path)


def test_a_key_naming_a_repository_not_served_stops_the_server_before_it_starts(served, index_settings, tmp_path):
    path = keys_file(tmp_path, f'[keys.a]\nsha256 = "{DIGEST}"\nrepos = ["my repo", "nope"]\n')
    settings = ServeSettings(repos=[r.root for r in served.repos], index=index_settings, keys_file=path)
    with pytest.raises(UsageError, match=r"key 'a' reads repository 'nope', which this server does not serve "
                                         r"\(serving: my repo\)"):
        create_app(settings, repos=served)


def test_a_name_two_served_repositories_share_must_be_given_as_a_path(tmp_path):
    first, second = SimpleNamespace(name="app", root=Path("/a/app")), SimpleNamespace(name="app", root=Path("/b/app"))
    path = keys_file(tmp_path, f'[keys.a]\nsha256 = "{DIGEST}"\nrepos = ["app"]\n[keys.b]\nkey = "k"\nrepos = ["/b/app"]\n')
    ring = KeyRing.from_settings(None, path)
    a, b = ring.keys
    with pytest.raises(UsageError, match="the name of several served repositories .*give the path"):
        ring.readable(a, [first, second])
    assert ring.readable(b, [first, second]) == [second]


def test_serve_with_a_bad_keys_file_exits_with_one_line_and_no_traceback(repo, ragpilot_home, tmp_path, capsys):
    path = keys_file(tmp_path, f'[keys.payments]\nsha256 = "{DIGEST}"\nrepos = ["ledger"]\n')
    code = main(["serve", "--keys", str(path), "--embedder", "hashing", "--no-index", "--upstream",
                 "http://127.0.0.1:9/v1", str(repo)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"error: keys file {path}: key 'payments' reads repository 'ledger', which this server does not " \
           f"serve (serving: {repo.name})" in err
    assert "Traceback" not in err


def test_the_keys_file_comes_from_the_flag_or_RAGPILOT_KEYS_FILE_and_counts_as_a_key(tmp_path, monkeypatch):
    path = keys_file(tmp_path, f'[keys.a]\nsha256 = "{DIGEST}"\nrepos = ["*"]\n')
    monkeypatch.setenv("RAGPILOT_KEYS_FILE", str(path))
    settings = ServeSettings(host="0.0.0.0")
    assert settings.keys_file == path and settings.needs_key
    settings.check_access()  # a team keys file is enough to bind beyond loopback
    monkeypatch.delenv("RAGPILOT_KEYS_FILE")
    with pytest.raises(UsageError, match="--keys"):
        ServeSettings(host="0.0.0.0").check_access()


def test_keys_hash_prints_the_sha256_of_the_key_read_from_stdin():
    result = CliRunner().invoke(cli, ["keys", "hash"], input=SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == DIGEST == hash_key(SECRET)
    blank = CliRunner().invoke(cli, ["keys", "hash"], input=" \n")
    assert blank.exit_code != 0


def test_keys_new_prints_an_entry_the_keys_file_accepts_for_the_key_it_shows_once(tmp_path):
    result = CliRunner().invoke(cli, ["keys", "new", "payments", "--repo", "api", "--repo", "ledger"])
    assert result.exit_code == 0, result.output
    entry = result.stdout
    key = result.stderr.rsplit(":", 1)[1].strip()
    assert key.startswith("rpk_") and key not in entry
    ring = KeyRing.from_settings(None, keys_file(tmp_path, entry))
    assert ring.identify(key.encode()).repos == ("api", "ledger")

