"""Secret detection on file content: a file that holds a key is never indexed, in whole or in part.

Secrets are found with detect-secrets' plugin regexes plus a few curated ones, each guarded by a literal
"anchor" so a clean file costs a handful of substring searches: running detect-secrets' own scanner
costs ~90 ms per 10 KB file, its plugins line by line ~2.4 ms, which would dominate indexing (see
bench/bench_walk.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecretDetector:
    """One kind of secret. ``patterns`` run only if an ``anchors`` regex finds something first.

    Anchors are cheap: each starts with a literal character, which the regex engine scans for in C
    (~5-10 us per 10 KB). Alternations without a common first character cost 10x more, hence a tuple.
    """

    name: str
    anchors: tuple[re.Pattern[str], ...]
    patterns: tuple[re.Pattern[str], ...]
    valid: Callable[[str], bool] | None = None  # extra check on each regex match
    config_only: bool = False  # only in config files (where `key = "value"` means a real setting)
    scan: Callable[[str, str], bool] | None = None  # (text, rel) -> fired; replaces ``patterns``

    def fires(self, text: str, rel: str, is_config: bool) -> bool:
        if self.config_only and not is_config:
            return False
        if self.anchors and not any(a.search(text) for a in self.anchors):
            return False
        if self.scan is not None:
            return self.scan(text, rel)
        for pattern in self.patterns:
            for m in pattern.finditer(text):
                if self.valid is None or self.valid(m.group(0)):
                    return True
        return False


def _rx(*sources: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(src) for src in sources)


_DETECTORS: dict[str, Callable[[], SecretDetector]] = {}


def register_detector(name: str) -> Callable[[Callable[[], SecretDetector]], Callable[[], SecretDetector]]:
    """Decorator: add a secret detector factory (called once, lazily, so imports stay cheap)."""

    def deco(factory: Callable[[], SecretDetector]) -> Callable[[], SecretDetector]:
        _DETECTORS[name] = factory
        _detectors.cache_clear()
        return factory

    return deco


@functools.cache
def _detectors() -> tuple[SecretDetector, ...]:
    return tuple(factory() for factory in _DETECTORS.values())


def _not_example(secret: str) -> bool:
    return "EXAMPLE" not in secret.upper()  # AWS documents AKIAIOSFODNN7EXAMPLE / ...EXAMPLEKEY


@register_detector("aws-access-key")
def _aws_access_key() -> SecretDetector:
    from detect_secrets.plugins.aws import AWSKeyDetector

    return SecretDetector("aws-access-key", _rx("A(?:KIA|SIA|BIA|CCA|3T)"), (AWSKeyDetector.denylist[0],),
                          valid=_not_example)


@register_detector("aws-secret-key")
def _aws_secret_key() -> SecretDetector:
    from detect_secrets.plugins.aws import AWSKeyDetector

    pattern = AWSKeyDetector.denylist[1]  # aws...key...'40 chars', case-insensitive: no fast prefix

    def scan(text: str, rel: str) -> bool:
        # Try the regex only where "aws" occurs (C-speed find) rather than at every position, and
        # without lower-casing the text (slow for non-ASCII text); odd casings like "aWs" are missed.
        for spelling in ("aws", "AWS", "Aws"):
            i = text.find(spelling)
            while i != -1:
                m = pattern.match(text, i)
                if m and _not_example(m.group(0)):
                    return True
                i = text.find(spelling, i + 3)
        return False

    return SecretDetector("aws-secret-key", (), (pattern,), scan=scan)


@register_detector("private-key")
def _private_key() -> SecretDetector:
    # detect-secrets fires on a bare "BEGIN RSA PRIVATE KEY", which PEM parsers hold as a constant.
    # Require key material (a long base64 run) after the header; also cover "BEGIN ENCRYPTED PRIVATE
    # KEY", which the plugin misses.
    pem = r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,200}?[A-Za-z0-9+/]{40}"
    return SecretDetector("private-key", _rx("PRIVATE KEY", "PuTTY-User-Key-File"),
                          _rx(pem, r"PuTTY-User-Key-File-\d: "))


@register_detector("github-token")
def _github_token() -> SecretDetector:
    from detect_secrets.plugins.github_token import GitHubTokenDetector

    fine_grained = re.compile(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}")  # not in detect-secrets 1.5
    return SecretDetector("github-token", _rx("g(?:h[pousr]_|ithub_pat_)"),
                          (*GitHubTokenDetector.denylist, fine_grained))


@register_detector("gitlab-token")
def _gitlab_token() -> SecretDetector:
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector

    return SecretDetector("gitlab-token", _rx("gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-", "GR1348941"),
                          tuple(GitLabTokenDetector.denylist))


@register_detector("slack-token")
def _slack_token() -> SecretDetector:
    from detect_secrets.plugins.slack import SlackDetector

    return SecretDetector("slack-token", _rx("xox", "hooks.slack.com"), tuple(SlackDetector.denylist))


@register_detector("stripe-key")
def _stripe_key() -> SecretDetector:
    from detect_secrets.plugins.stripe import StripeDetector

    return SecretDetector("stripe-key", _rx("k_live_"), tuple(StripeDetector.denylist))


@register_detector("google-api-key")
def _google_api_key() -> SecretDetector:
    return SecretDetector("google-api-key", _rx("AIza"), _rx(r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"))


@register_detector("openai-key")
def _openai_key() -> SecretDetector:
    from detect_secrets.plugins.openai import OpenAIDetector

    return SecretDetector("openai-key", _rx("T3BlbkFJ"), tuple(OpenAIDetector.denylist))


@register_detector("anthropic-key")
def _anthropic_key() -> SecretDetector:
    return SecretDetector("anthropic-key", _rx("sk-ant-"), _rx(r"sk-ant-[a-z]+\d*-[A-Za-z0-9_\-]{40,}"))


@register_detector("package-registry-token")
def _registry_tokens() -> SecretDetector:
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector

    npm = re.compile(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")
    return SecretDetector("package-registry-token", _rx("_authToken", "npm_", "pypi-AgE"),
                          (*NpmDetector.denylist, npm, *PypiTokenDetector.denylist))


@register_detector("sendgrid-key")
def _sendgrid_key() -> SecretDetector:
    from detect_secrets.plugins.sendgrid import SendGridDetector

    return SecretDetector("sendgrid-key", _rx(r"SG\."), tuple(SendGridDetector.denylist))


@register_detector("azure-storage-key")
def _azure_storage_key() -> SecretDetector:
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector

    return SecretDetector("azure-storage-key", _rx("AccountKey="), tuple(AzureStorageKeyDetector.denylist))


@register_detector("jwt")
def _jwt() -> SecretDetector:
    from detect_secrets.plugins.jwt import JwtTokenDetector

    # The plugin's regex stops at header.payload; require the signature too (a usable token).
    jwt = r"eyJ[A-Za-z0-9_=-]{8,}\.eyJ[A-Za-z0-9_=-]{8,}\.[A-Za-z0-9_=+/-]{16,}"
    return SecretDetector("jwt", _rx("eyJ"), _rx(jwt), valid=JwtTokenDetector.is_formally_valid)


# ``password = "..."`` in config files. detect-secrets' KeywordDetector regexes, run on every line,
# cost ~600 us per 10 KB of JSON and fire mid-identifier ("AWSSecretsManagerReadWrite": "arn:..."). So:
# only lines holding a keyword are looked at; there a `key = value` regex (YAML, INI, TOML, .env, JSON,
# properties, settings.py) must match, the key must sound secret, and the value must look real.
_ASSIGNMENT = re.compile(
    r"""[ \t]*(?:export[ \t]+|set[ \t]+)?["']?(?P<key>[\w.\-]+)["']?[ \t]*(?::=|=>|[:=])[ \t]*
    (?P<value>"[^"\n]*"|'[^'\n]*'|[^\s#;,'"]+)""",
    re.VERBOSE,
)  # matched at the start of each line that holds a keyword
_SECRET_KEY = re.compile(  # matched against the lower-cased key
    r"""passw(?:or)?d|passphrase|pwd|(?<![a-z])pass(?![a-z])|secret|contrase(?:ñ|n)a
    |(?:api|auth|access|private|client|secret|signing|encryption|master|service|account|db|database)[_.\-]?key
    |(?:access|auth|api|bearer|refresh|id|session|oauth|bot|personal|private|secret|app|deploy|github
       |gitlab|slack|npm|pypi|hf)[_.\-]?token|^token$""",
    re.VERBOSE,
)
_KEYWORDS = ("pass", "pwd", "secret", "key", "token", "contras")
# Placeholders that configs use instead of a real value.
_PLACEHOLDER_STARTS = frozenset("$%@!&*<{[(^/~.")
_PLACEHOLDER = re.compile(
    r"^(?:[$%@!&*<{\[(^/~]|\.\.?/|arn:|[a-z][a-z0-9+.\-]*://|.*(?:example|change.?me|placeholder|your[_ -]|"
    r"xxx|\*\*\*|\.\.\.|redacted|dummy|fake|sample|todo|replace|secrets?\.|env\(|environ|getenv|vault))",
    re.IGNORECASE)
_NOT_VALUES = frozenset({
    "none", "null", "nil", "true", "false", "yes", "no", "on", "off", "required", "optional", "string", "str",
    "password", "passwd", "secret", "token", "test", "testing", "changeit", "empty", "default", "bearer",
})
# "secretName: x", "password_file: path", "max_tokens: 100" name or size a secret, they do not hold one.
_NAMING_KEY = re.compile(r"(?:name|ref|refs|file|path|id|type|length|len|policy|env|var|arn|manager|provider|"
                         r"store|dir|url|uri|endpoint|key_?id|mount|source|hash|count|limit|size|"
                         r"timeout|ttl|expiry|expires|header|prefix|field|param|regex|pattern)$",
                         re.IGNORECASE)
_CONFIG_SUFFIXES = (".yaml", ".yml", ".toml", ".ini", ".cfg", ".cnf", ".conf", ".config", ".cf",
                    ".properties", ".env", ".json", ".tfvars", ".hcl", ".xml", ".plist", ".envrc")
_CONFIG_STEMS = frozenset({"settings", "local_settings", "config", "configuration", "secrets",
                           "credentials", "conf"})


def is_config_file(rel: str) -> bool:
    """Files where ``password = "..."`` is a real setting rather than test data or code."""
    name = rel.rsplit("/", 1)[-1].lower()
    if name.endswith(_CONFIG_SUFFIXES) or name.startswith(".env") or name in (".npmrc", ".pypirc"):
        return True
    return name.split(".", 1)[0] in _CONFIG_STEMS


def _looks_like_secret_value(value: str, key: str = "") -> bool:
    value = value.strip()
    if value[:1] in "\"'`":
        value = value[1:-1]
    if len(value) < 6 or len(value.split(None, 1)) != 1 or value.lower() in _NOT_VALUES:
        return False
    if value.replace(".", "").replace("_", "").isdigit() or _PLACEHOLDER.match(value):
        return False
    # Real secrets have a digit or a symbol, or are long; "NextToken" or "changeit" are names.
    word = value.replace("_", "").replace("-", "").replace(".", "")
    if word.isalpha() and (len(value) < 20 or value.isupper()):  # SYMMETRIC_DEFAULT is an enum
        return False
    return not _NAMING_KEY.search(key.rstrip("_.-"))


def _keyword_line_starts(text: str) -> list[int]:
    """Offsets of the lines holding a keyword, found with C-speed ``str.find``: the cost follows the
    number of keywords, not of lines (a regex over every line of a 10 KB JSON costs ~1 ms)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare character changed length when lower-cased: check every line
        return [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]
    starts: set[int] = set()
    for word in _KEYWORDS:
        i = lowered.find(word)
        while i != -1:
            starts.add(lowered.rfind("\n", 0, i) + 1)
            end = lowered.find("\n", i)
            i = -1 if end == -1 else lowered.find(word, end)
    return sorted(starts)


def _keyword_fires(text: str, rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    code_shaped = not (name.endswith(_CONFIG_SUFFIXES) or name.startswith(".env"))
    for start in _keyword_line_starts(text):
        m = _ASSIGNMENT.match(text, start)
        if m is None:
            continue
        value = m.group("value")
        if code_shaped and value[:1] not in "\"'":  # settings.py: PASSWORD = get_password() is fine
            continue
        bare = value.strip("\"'`")
        if len(bare) < 6 or bare[0] in _PLACEHOLDER_STARTS:  # cheap rejections before any regex
            continue
        key = m.group("key").lower()
        if not any(k in key for k in _KEYWORDS) or not _SECRET_KEY.search(key):
            continue
        if _looks_like_secret_value(value, key):
            return True
    return False


@register_detector("keyword-assignment")
def _keyword_assignment() -> SecretDetector:
    return SecretDetector("keyword-assignment", (), (), config_only=True, scan=_keyword_fires)


@register_detector("basic-auth-url")
def _basic_auth_url() -> SecretDetector:
    from detect_secrets.plugins.basic_auth import BasicAuthDetector

    def real_password(match: str) -> bool:
        return _looks_like_secret_value(match[3:-1].split(":", 1)[-1])

    return SecretDetector("basic-auth-url", _rx("://"), tuple(BasicAuthDetector.denylist),
                          valid=real_password, config_only=True)


def secret_findings(text: str, *, rel: str = "") -> list[str]:
    """Names of the detectors that fire on ``text``. ``rel`` (the file's path) enables the config-file
    rules (``password = "..."``, credentials in URLs), which in code would flag test fixtures."""
    is_config = bool(rel) and is_config_file(rel)
    return [det.name for det in _detectors() if det.fires(text, rel, is_config)]


def detector_names() -> tuple[str, ...]:
    """The registered secret detectors, for status output and docs."""
    return tuple(_DETECTORS)
