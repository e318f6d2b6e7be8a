"""A planted set of fake credentials in every shape a repository holds them, shared by the tests that
prove no planted value reaches the index, a search hit, the terminal, an HTTP answer or a prompt.

Two kinds: ``REDACTED_FILES`` hold values that are secret by their name (``password = "..."``) and
stay indexed with the value replaced; ``SKIPPED_FILES`` hold tokens of a known format and are skipped
whole. Every value is fake and generated, so this file itself holds no credential.
"""

from __future__ import annotations

import json
import random
import re
import string


def fake_secret(label: str, length: int = 14) -> str:
    """A random-looking password, the same on every run: letters and digits around one symbol."""
    rng = random.Random(f"ragpilot-planted-{label}")
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length - 3))
    return f"{body[:2]}{rng.choice('0123456789')}{body[2:]}!{rng.choice(string.ascii_letters)}"


def _alnum(label: str, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    rng = random.Random(f"ragpilot-token-{label}")
    return rng.choice("0123456789") + "".join(rng.choice(alphabet) for _ in range(length - 1))


def _notebook(source: list[str], output: list[str]) -> str:
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": source,
            "outputs": [{"name": "stdout", "output_type": "stream", "text": output}]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


V = {label: fake_secret(label) for label in (
    "json-one-line", "json-api-key", "json-client-secret", "yaml-block", "yaml-quoted-token",
    "yaml-inline-quoted", "yaml-inline-bare", "toml-password", "toml-api-key", "ini-password",
    "vars-db-password", "vars-secret-key", "django-password", "py-module-constant", "py-kwarg",
    "py-secret-key", "js-api-key", "js-object-secret", "js-object-token", "ts-annotated-token",
    "nb-source-password", "nb-output-password", "md-code-export", "md-prose", "sh-export",
    "sh-quoted-pwd", "go-short-decl", "go-struct-field", "java-constant", "url-in-code",
    "url-in-compose",
)}

REDACTED_FILES = {
    "config/database.json": ('{"db": {"host": "db.internal", "user": "svc", "password": "'
                             + V["json-one-line"] + '"}}\n'),
    "config/service.json": json.dumps({"service": {"name": "billing", "apiKey": V["json-api-key"],
                                                   "client_secret": V["json-client-secret"]}}, indent=2),
    "config/storage.yaml": (f"storage:\n  user: svc\n  password: {V['yaml-block']}\n"
                            f"  auth_token: \"{V['yaml-quoted-token']}\"\n"),
    "config/inline.yaml": (f"db: {{user: svc, password: \"{V['yaml-inline-quoted']}\"}}\n"
                           f"cache: {{user: cache, password: {V['yaml-inline-bare']}}}\n"),
    "config/app.toml": (f"[database]\nuser = \"svc\"\npassword = \"{V['toml-password']}\"\n"
                        f"api_key = '{V['toml-api-key']}'\n"),
    "config/legacy.ini": f"[db]\nuser = svc\npassword = {V['ini-password']}\n",
    "deploy/prod.vars": f"DB_HOST=db.internal\nDB_PASSWORD={V['vars-db-password']}\n"
                        f"SECRET_KEY={V['vars-secret-key']}\n",
    "app/settings.py": ('DATABASES = {"default": {"ENGINE": "postgresql", "PASSWORD": "'
                        + V["django-password"] + '"}}\n'),
    "app/db.py": (f'"""Connects to the reporting database."""\n\nDB_PASSWORD = "{V["py-module-constant"]}"\n'
                  f"SECRET_KEY = '{V['py-secret-key']}'\n\n\ndef open_reporting_db(connect):\n"
                  f'    return connect(host="db.internal", user="svc", password="{V["py-kwarg"]}")\n'),
    "web/client.js": (f'const apiKey = "{V["js-api-key"]}";\n'
                      f"const cfg = {{ clientSecret: '{V['js-object-secret']}', authToken: "
                      f'"{V["js-object-token"]}" }};\nexport function callBilling() {{ return fetch(cfg); }}\n'),
    "web/api.ts": f'export const API_TOKEN: string = "{V["ts-annotated-token"]}";\n',
    "notebooks/explore.ipynb": _notebook(
        ["import os\n", f"password = \"{V['nb-source-password']}\"\n", "conn = connect(password=password)\n"],
        [f"DB_PASSWORD={V['nb-output-password']}\n"]),
    "docs/staging.md": ("# Staging database\n\n```sh\n"
                        f"export DB_PASSWORD=\"{V['md-code-export']}\"\n```\n\n"
                        f"Log in with the staging password: {V['md-prose']} (rotated monthly).\n"),
    "scripts/deploy.sh": (f"#!/bin/sh\nexport DEPLOY_TOKEN={V['sh-export']}\n"
                          f"MYSQL_PWD='{V['sh-quoted-pwd']}' mysql -u svc reporting\n"),
    "cmd/main.go": (f'package main\n\nfunc dbConfig() Config {{\n\tdbPassword := "{V["go-short-decl"]}"\n'
                    f'\treturn Config{{User: "svc", Password: "{V["go-struct-field"]}", Pw: dbPassword}}\n}}\n'),
    "src/Billing.java": ("public class Billing {\n"
                         f'    private static final String API_KEY = "{V["java-constant"]}";\n}}\n'),
    "app/broker.py": f'BROKER_URL = "amqp://worker:{V["url-in-code"]}@rabbit:5672//"\n',
    "deploy/compose.yml": ("services:\n  web:\n    environment:\n"
                           f"      DATABASE_URL: postgres://app:{V['url-in-compose']}@db:5432/app\n"),
}

T = {
    "aws-key-id": "AKIA" + _alnum("aws-id", 16, string.ascii_uppercase + string.digits),
    "aws-secret": _alnum("aws-secret", 40),
    "github": "ghp_" + _alnum("github", 36),
    "slack": "xoxb-" + _alnum("slack-a", 12, string.digits) + "-" + _alnum("slack-b", 13, string.digits)
             + "-" + _alnum("slack-c", 24),
    "stripe": "sk_live_" + _alnum("stripe", 24),
    "openai-legacy": "sk-" + _alnum("openai", 48),
    "openai-project": "sk-proj-" + _alnum("openai-proj", 64),
    "anthropic": "sk-ant-api03-" + _alnum("anthropic", 93),
    "google": "AIza" + _alnum("google", 35),
    "pem-body": "MIIEpAIBAAKCAQEA" + _alnum("pem", 48),
}
# A formally valid JWT (header and payload are base64url JSON) with a random signature.
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtcmVwb3J0aW5nIiwiaWF0IjoxNzAwMDAwMDAwfQ."
       + _alnum("jwt", 43))
T["jwt-signature"] = JWT.rsplit(".", 1)[1]

SKIPPED_FILES = {
    "app/aws_upload.py": f'AWS_ACCESS_KEY_ID = "{T["aws-key-id"]}"\nAWS_SECRET_ACCESS_KEY = "{T["aws-secret"]}"\n',
    ".github/workflows/ci.yml": f"jobs:\n  build:\n    env:\n      GH_TOKEN: {T['github']}\n",
    "app/notify.py": f'SLACK_BOT = "{T["slack"]}"\n',
    "app/billing_client.py": f'stripe.api_key = "{T["stripe"]}"\n',
    "notebooks/llm.ipynb": _notebook(["import os\n", "print(os.environ['OPENAI_API_KEY'])\n"],
                                     [f"{T['openai-legacy']}\n"]),
    "app/llm.py": f'client = OpenAI(api_key="{T["openai-project"]}")\n',
    "app/claude.py": f'client = Anthropic(api_key="{T["anthropic"]}")\n',
    "web/maps.js": f'const MAPS = "{T["google"]}";\n',
    "tests/auth_fixture.py": f'SERVICE_JWT = "{JWT}"\n',
    "deploy/tls.py": (f'TLS_KEY = """-----BEGIN RSA PRIVATE KEY-----\n{T["pem-body"]}\n'
                      f'{T["pem-body"][::-1]}\n-----END RSA PRIVATE KEY-----\n"""\n'),
}

REDACTED_VALUES = list(V.values())
SKIPPED_VALUES = [T[k] for k in T if k != "pem-body"] + [T["pem-body"][16:]]
VALUES = REDACTED_VALUES + SKIPPED_VALUES

# Ordinary code near secrets that must be indexed untouched: no value here is a credential.
ORDINARY = {
    "app/login.py": ('import getpass\nimport os\n\n\ndef login(request, confirm):\n'
                     '    password = getpass.getpass()\n    admin_password = os.environ["ADMIN_PASSWORD"]\n'
                     '    token = request.headers.get("Authorization")\n'
                     '    if password == confirm:\n        return token\n    return admin_password\n\n\n'
                     'def check(password: str, api_key: str = "") -> bool:\n    return bool(password and api_key)\n'),
    "config/template.yaml": ('db:\n  password: "changeme"\n  api_key: "<api-key>"\n  secret: "${DB_SECRET}"\n'
                             '  token: "xxx"\n  auth_token: ""\n  passwordFile: /run/secrets/db\n'),
    "docs/auth.md": ("Set `password = getpass()` or read it with `password = os.environ[\"DB_PASSWORD\"]`.\n"
                     "The `password: str` argument is compared with `if password == confirm`.\n"),
}

QUERIES = [
    "password DB_PASSWORD database user svc db.internal host",
    "apiKey api_key client_secret clientSecret authToken API_TOKEN service billing",
    "SECRET_KEY DEPLOY_TOKEN MYSQL_PWD export staging password rotated",
    "dbPassword Password Config API_KEY Billing broker amqp DATABASE_URL postgres",
    "AWS_ACCESS_KEY_ID SLACK_BOT stripe api_key OpenAI Anthropic MAPS SERVICE_JWT TLS_KEY PRIVATE KEY",
    "notebook connect password OPENAI_API_KEY print os environ",
]

_WORD = re.compile(r"[A-Za-z0-9]{8,}")


def leaked(values: list[str], text: str) -> list[str]:
    """The values found in ``text``, whole or as their longest letter-and-digit run (which is how the
    lower-cased full-text columns would hold them)."""
    lowered = text.lower()
    out = []
    for value in values:
        longest = max(_WORD.findall(value), key=len, default=value)
        if value in text or longest.lower() in lowered:
            out.append(value)
    return out
