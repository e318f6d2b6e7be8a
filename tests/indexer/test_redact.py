"""Values secret by their name are redacted before chunking; tokens of a known format skip their file.

The planted set (``planted_secrets.py``) covers JSON (one-line and pretty), YAML (block and inline
flow), TOML, INI, an env-like file not named .env, Python (constants, settings dicts, kwargs), JS/TS,
notebooks (source and output cells), Markdown (code and prose), shell, Go, Java, URLs with
credentials, and AWS, GitHub, Slack, Stripe, OpenAI (sk- and sk-proj-), Anthropic, Google, JWT and
private key blocks. The end-to-end proofs (CLI, HTTP, prompt) are in test_bad_input.py and
test_serve_app.py.
"""

from __future__ import annotations

import pytest
from planted_secrets import (
    ORDINARY,
    REDACTED_FILES,
    SKIPPED_FILES,
    VALUES,
    V,
    fake_secret,
    leaked,
)

import ragpilot.indexer.pipeline as pipeline
import ragpilot.indexer.prepare as prepare
from ragpilot.indexer.filters import content_skip_reason
from ragpilot.indexer.pipeline import Indexer, index_repo
from ragpilot.indexer.redact import REDACTED, Redaction, redact_secrets
from ragpilot.indexer.secrets import secret_findings
from ragpilot.indexer.settings import IndexSettings
from ragpilot.indexer.store import IndexStore


def stored_text(settings: IndexSettings, root) -> str:
    """Every text column of every stored row."""
    table = IndexStore.open(settings.index_dir_for(root)).table.to_arrow()
    columns = [name for name in table.column_names if name != "vector"]
    return "\n".join(str(v) for row in table.select(columns).to_pylist() for v in row.values())


def test_the_planted_set_holds_at_least_28_values_none_repeated():
    assert len(VALUES) >= 28 and len(set(VALUES)) == len(VALUES)


@pytest.mark.parametrize("rel", sorted(REDACTED_FILES))
def test_a_value_named_as_a_secret_is_redacted_and_its_file_kept(rel: str):
    text = REDACTED_FILES[rel]
    assert content_skip_reason(rel, text.encode()) is None
    redacted = redact_secrets(text, rel)
    assert leaked(VALUES, redacted.text) == []
    planted_here = [v for v in V.values() if v in text]
    assert redacted.count == len(planted_here) >= 1
    assert redacted.text.count(REDACTED) == redacted.count


@pytest.mark.parametrize("rel", sorted(SKIPPED_FILES))
def test_a_token_of_a_known_format_skips_its_file(rel: str):
    assert content_skip_reason(rel, SKIPPED_FILES[rel].encode()) == "secret"


@pytest.mark.parametrize(("detector", "text"), [
    ("openai-project-key", "sk-" + "T4nd0mAlph4Num3r1cK3yOfF0rtyE1ghtCh4r4ct3rsXyZ12"),
    ("openai-project-key", "OPENAI_API_KEY=sk-proj-" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1"),
])
def test_openai_keys_without_the_legacy_marker_are_detected(detector: str, text: str):
    assert detector in secret_findings(text, rel="notebooks/demo.ipynb")


@pytest.mark.parametrize("line", [
    "password = getpass()",
    'password = os.environ["X"]',
    "password = os.getenv('DB_PASSWORD')",
    "token = request.headers.get('Authorization')",
    "def login(password: str) -> bool:",
    "password: str",
    "if password == confirm:",
    'password = "changeme"',
    'password = "<password>"',
    'password = "${DB_PASSWORD}"',
    'password = "xxx"',
    'password = ""',
    'api_key = "your-api-key-here"',
    'password = "password"',
    "secret_key = settings.SECRET_KEY",
    'PASSWORD_FIELD = "password_hash"',
    'TOKEN_HEADER = "X-Auth-Token"',
    "max_tokens: 4096",
    "secretName: web-tls",
    'url = "postgres://user:password@localhost/db"',
])
@pytest.mark.parametrize("rel", ["app/login.py", "web/login.ts", "config/app.yaml", "docs/auth.md",
                                 "scripts/run.sh", "config/app.json"])
def test_ordinary_code_and_placeholders_are_neither_redacted_nor_skipped(line: str, rel: str):
    text = f"{line}\n"
    assert redact_secrets(text, rel) == Redaction(text, 0)
    assert content_skip_reason(rel, text.encode()) is None


@pytest.mark.parametrize(("rel", "line"), [  # shapes bench/bench_secrets.py found in third-party code
    ("data/policies.json", '"SecretsManagerReadWrite": "arn:aws:iam::aws:policy/SecretsManagerReadWrite",'),
    ("data/policies.json", '"IAMUserChangePassword": "arn:aws:iam::aws:policy/IAMUserChangePassword",'),
    ("providers/us_west_2.py", '"AWS::SecretsManager::Secret": "3bf4404734c82308",'),
    ("docs/list-secrets.rst", '"ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestSecret-a1b2c3",'),
    ("data/iam.json", '"PasswordLastUsed": "2016-09-08T21:47:36Z",'),
    ("data/kms.json", '"CustomerMasterKeySpec": "RSA_4096",'),
    ("styles/zenburn.py", "Token: '#dcdccc',"),
    ("pexpect/run.py", "events={'(?i)password':'secret\\n'})"),
    ("httpx/_urls.py", 'url = URL("https://jo%40email.com:a%20secret@www.example.com")'),
])
def test_names_types_references_and_colours_found_in_third_party_code_are_not_redacted(rel: str, line: str):
    assert redact_secrets(line + "\n", rel).count == 0


@pytest.mark.parametrize("rel", sorted(ORDINARY))
def test_ordinary_files_near_secrets_are_indexed_untouched(rel: str):
    assert redact_secrets(ORDINARY[rel], rel).count == 0
    assert content_skip_reason(rel, ORDINARY[rel].encode()) is None


def test_redaction_keeps_every_line_in_place():
    for rel, text in REDACTED_FILES.items():
        redacted = redact_secrets(text, rel).text
        assert redacted.count("\n") == text.count("\n"), rel
        for before, after in zip(text.split("\n"), redacted.split("\n"), strict=True):
            assert before == after or REDACTED in after, rel


def test_the_index_holds_redacted_files_but_no_planted_value_and_counts_the_redactions(tmp_path):
    repo = tmp_path / "repo"
    for rel, text in {**REDACTED_FILES, **SKIPPED_FILES, **ORDINARY}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    settings = IndexSettings(home=tmp_path / "home", embedder="hashing")
    summary = index_repo(repo, settings)
    assert summary.skipped_by_reason == {"secret": len(SKIPPED_FILES)}
    assert summary.files_redacted == len(REDACTED_FILES)
    assert summary.secrets_redacted == len(V)
    assert summary.files_indexed == len(REDACTED_FILES) + len(ORDINARY)
    stored = stored_text(settings, repo)
    assert leaked(VALUES, stored) == []
    assert "getpass" in stored and "DB_PASSWORD" in stored and REDACTED in stored
    assert summary.to_json()["secrets_redacted"] == len(V)


def test_with_secret_scanning_off_nothing_is_redacted(tmp_path):
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app/db.py").write_text(REDACTED_FILES["app/db.py"])
    settings = IndexSettings(home=tmp_path / "home", embedder="hashing", scan_secrets=False)
    summary = index_repo(repo, settings)
    assert summary.secrets_redacted == 0
    assert V["py-module-constant"] in stored_text(settings, repo)


def test_a_password_added_while_watched_is_redacted_on_the_update_path(sample_repo, fast_settings):
    index_repo(sample_repo, fast_settings)
    target = sample_repo / "src/http/retry.py"
    password = fake_secret("watcher")
    target.write_text(target.read_text() + f'\nRETRY_DB_PASSWORD = "{password}"\n')
    with Indexer(sample_repo, fast_settings) as indexer:
        summary = indexer.update(["src/http/retry.py"])
    assert summary.files_indexed == 1 and summary.secrets_redacted == 1
    stored = stored_text(fast_settings, sample_repo)
    assert password not in stored and "RETRY_DB_PASSWORD" in stored


def test_an_index_built_before_redaction_is_rechunked_and_loses_its_secret_values(sample_repo, fast_settings,
                                                                                  monkeypatch):
    (sample_repo / "app").mkdir()
    (sample_repo / "app/db.py").write_text(REDACTED_FILES["app/db.py"])
    with monkeypatch.context() as old:  # the pipeline as it was: chunker version 1, no redaction
        old.setattr(pipeline, "CHUNKER_VERSION", "1")
        old.setattr(prepare, "redact_secrets", lambda text, rel: Redaction(text, 0))  # where files are prepared
        index_repo(sample_repo, fast_settings)
    assert V["py-module-constant"] in stored_text(fast_settings, sample_repo)
    summary = index_repo(sample_repo, fast_settings)  # nothing on disk changed
    assert summary.secrets_redacted == 3
    assert leaked(VALUES, stored_text(fast_settings, sample_repo)) == []

