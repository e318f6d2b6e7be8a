"""Content checks: binaries, encodings, minified bundles, and secrets that must never be indexed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ragpilot.indexer.filters import content_skip_reason, decode_text, secret_findings
from ragpilot.indexer.redact import REDACTED, redact_secrets
from ragpilot.indexer.walk import IgnoreRules, walk_repo

# Realistic-looking but fake credentials, split so this file itself does not look like a leak.
AWS_KEY_ID = "AKIA" + "Z7Q3K5M2N8P4R6T1"
AWS_SECRET = "q8Hk2mZp4Rt6Vw9yB1cE3fG5hJ7kL9nP2sU4xW6z"
GITHUB_TOKEN = "ghp_" + "R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s12"
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL"
PRIVATE_KEY = (f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY[::-1]}\n"
               "-----END RSA PRIVATE KEY-----\n")
OPENSSH_KEY = (f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
               f"{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----\n")

PLANTED = {
    "app/config.py": (f'AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"\n'
                      f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\nREGION = "eu-west-1"\n'),
    "deploy/server.pem": PRIVATE_KEY,
    ".env": "DATABASE_URL=postgres://app:Xk83jdQ@db:5432/app\nDEBUG=1\n",
    ".github/workflows/release.yml": f"jobs:\n  release:\n    env:\n      GH_TOKEN: {GITHUB_TOKEN}\n",
    "keys/id_rsa": OPENSSH_KEY,
}
ORDINARY = {
    "app/auth.py": textwrap.dedent('''
        def check_password(password: str, stored_password_hash: bytes) -> bool:
            """Compare a password against its stored hash."""
            secret_key = load_secret_key()
            return verify(password, stored_password_hash, key=secret_key)
        '''),
    "tests/test_auth.py": ('def test_login(client):\n'
                           '    assert client.login(user="bob", password="hunter2-test")\n'),
    "docs/setup.md": "Set `password` in settings, e.g. postgres://user:password@localhost/db\n",
    "app/crypto.py": ('PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"\n\n'
                      "def is_pem(text):\n    return PEM_HEADER in text\n"),
    "config/app.yaml": ("db:\n  password: ${DB_PASSWORD}\n  passwordFile: /run/secrets/db\n"
                        "  secretName: db-tls\n"),
    "settings.py": 'SECRET_KEY = os.environ["SECRET_KEY"]\nPASSWORD_HASHERS = ["argon2"]\n',
    "aws_docs.py": 'EXAMPLE_KEY = "AKIAIOSFODNN7EXAMPLE"\n',
}


def decide(root: Path, rel: str) -> str | None:
    """What the pipeline does with one file: path rules first, then the content check."""
    reason = IgnoreRules(root).skip_reason(rel, False)
    return reason or content_skip_reason(rel, (root / rel).read_bytes())


def test_planted_secrets_are_all_skipped_with_reason_secret_and_ordinary_code_is_kept(tmp_path: Path):
    for rel, text in {**PLANTED, **ORDINARY}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel in PLANTED:
        assert decide(tmp_path, rel) == "secret", rel
    for rel in ORDINARY:
        assert decide(tmp_path, rel) is None, rel
    walked = walk_repo(tmp_path)
    indexed = {e.rel for e in walked.files
               if content_skip_reason(e.rel, e.abs.read_bytes()) is None}
    assert indexed == set(ORDINARY)
    # .env, the .pem and id_rsa are refused by name before anything is read
    assert walked.skipped.by_reason == {"secret": 3}


@pytest.mark.parametrize("rel", ["notes.txt", "README.md", "data.csv"])
def test_secret_content_is_caught_whatever_the_file_is_called(rel: str):
    for text in (PRIVATE_KEY, OPENSSH_KEY, f"key={AWS_KEY_ID}", f"token {GITHUB_TOKEN}"):
        assert content_skip_reason(rel, text.encode()) == "secret"


@pytest.mark.parametrize(("detector", "text"), [
    ("aws-access-key", f"id = '{AWS_KEY_ID}'"),
    ("aws-secret-key", f'aws_secret_access_key = "{AWS_SECRET}"'),
    ("private-key", PRIVATE_KEY),
    ("private-key", f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{PEM_BODY}\n-----END ENCRYPTED PRIVATE KEY-----"
                    "\n"),
    ("private-key", OPENSSH_KEY),
    ("github-token", f"token: {GITHUB_TOKEN}"),
    ("github-token", "github_pat_" + "11ABCDEFG0123456789abc_" + "x" * 59),
    ("gitlab-token", "glpat-" + "aB3dE6gH9jK2mN5pQ8sT"),
    ("slack-token", "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("stripe-key", "Stripe.api_key = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc'"),
    ("google-api-key", "key=AIza" + "SyA1b2C3d4E5f6G7h8I9j0KLmnOPqrstUVw"),
    ("jwt", "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    ("package-registry-token", "//registry.npmjs.org/:_authToken=npm_" + "a" * 36),
])
def test_each_detector_fires_on_its_kind_of_secret(detector: str, text: str):
    assert detector in secret_findings(text, rel="src/module.py")


@pytest.mark.parametrize(("rel", "text"), [
    ("config/db.yaml", "database:\n  password: s3cr3tPa55w0rd\n"),
    ("config/app.json", '{"service": {\n  "apiKey": "f3a9c1d2e4b5a6978877"\n}}'),
    ("setup.cfg", "[db]\ndb_pass = hunter22\n"),
    ("settings.py", 'DATABASE_PASSWORD = "Zx81!kqP"\n'),
    ("docker-compose.yml", "environment:\n  DATABASE_URL: postgres://app:Xk83jdQ@db:5432/app\n"),
])
def test_password_assignments_in_config_files_are_redacted_and_the_file_kept(rel: str, text: str):
    assert content_skip_reason(rel, text.encode()) is None
    redacted = redact_secrets(text, rel)
    assert redacted.count == 1 and REDACTED in redacted.text


@pytest.mark.parametrize(("rel", "text"), [
    ("config/db.yaml", "database:\n  password: ${DB_PASSWORD}\n  password: changeme\n  password:\n"),
    ("config/app.yaml", "spec:\n  secretName: web-tls\n  secretKeyRef:\n    name: db\n  max_tokens: 4096\n"),
    ("config/ci.yml", "with:\n  token: ${{ secrets.GITHUB_TOKEN }}\n"),
    ("settings.py", "PASSWORD = get_password()\nSECRET_KEY = env('SECRET_KEY')\n"),
    ("config/paginators.json", '{"input_token": "NextToken", "output_token": "Result.Marker"}'),
    (".env.example", "API_KEY=your-api-key-here\nDB_PASSWORD=\n"),
    ("tests/test_regex.py", "DNA = 'AAACCATCTCTACCGGTTCGCTTTCACTGGATATCGCG'\n"),  # ACCA + 16 capitals
])
def test_placeholders_and_names_of_secrets_are_not_secrets(rel: str, text: str):
    assert secret_findings(text, rel=rel) == []
    assert content_skip_reason(rel, text.encode()) is None
    assert redact_secrets(text, rel).count == 0


def test_secret_scanning_can_be_turned_off():
    data = PLANTED["app/config.py"].encode()
    assert content_skip_reason("app/config.py", data) == "secret"
    assert content_skip_reason("app/config.py", data, scan_secrets=False) is None


# ----- binaries, encodings, minified ----------------------------------------------------------


def test_nul_bytes_or_control_bytes_mean_binary():
    assert content_skip_reason("blob.dat", b"abc\x00def" * 100) == "binary"
    assert content_skip_reason("img.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == "binary"
    assert content_skip_reason("ctl.txt", bytes(range(1, 32)) * 50) == "binary"


def test_text_encodings_decode_and_undecodable_text_is_not_utf8():
    assert decode_text("héllo wörld\n".encode()) == "héllo wörld\n"
    assert decode_text(b"\xef\xbb\xbfprint('bom')\n") == "print('bom')\n"
    utf16 = "def f():\n    return 'ü'\n".encode("utf-16")
    assert decode_text(utf16) == "def f():\n    return 'ü'\n"
    assert content_skip_reason("w.py", utf16) is None
    latin1 = "# Auteur: José Müller\nx = 1\n".encode("latin-1")
    assert decode_text(latin1) == "# Auteur: José Müller\nx = 1\n"
    assert content_skip_reason("legacy.py", latin1) is None
    sjis = "# 日本語のコメント、日本語のコメント\n".encode("shift_jis")
    assert decode_text(sjis) is None
    assert content_skip_reason("jp.py", sjis) == "not-utf8"


def test_minified_bundles_are_skipped_but_long_lined_source_is_kept():
    bundle = ("/*! lib v1 */\n" + "var a=function(b){return b+1};" * 2000).encode()
    assert content_skip_reason("static/app.js", bundle) == "minified"
    assert content_skip_reason("static/site.css", (".a{color:red}" * 500).encode()) == "minified"
    long_py = ("DATA = [" + ", ".join(str(i) for i in range(3000)) + "]\n\n\ndef f():\n    return DATA\n")
    assert content_skip_reason("gen_table.py", long_py.encode()) is None
    prose = ("A long paragraph without wrapping. " * 200 + "\n") * 3
    assert content_skip_reason("docs/essay.md", prose.encode()) is None
    normal_js = "\n".join(f"export const v{i} = {i};" for i in range(500))
    assert content_skip_reason("src/values.js", normal_js.encode()) is None
