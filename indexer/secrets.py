"""Secret detection on file content: a file that holds a key of a known format is never indexed.

A token with a recognisable shape (AWS, GitHub, Slack, Stripe, OpenAI, Anthropic, Google, JWT, private
key blocks, ...) is certain, and its file is skipped whole. A value that is secret only because of its
name (``password = "..."``, ``user:pw@host``) is a guess from context: ``redact.py`` hides the value and
keeps the file.

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
    scan: Callable[[str, str], bool] | None = None  # (text, rel) -> fired; replaces ``patterns``

    def fires(self, text: str, rel: str) -> bool:
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


def _aws_key_id(match: str) -> bool:
    # "ACCA" + 16 capitals also starts DNA: a sequence of A, C, G, T is no key (regex's test suite).
    return _not_example(match) and not set(match) <= set("ACGTUN")


@register_detector("aws-access-key")
def _aws_access_key() -> SecretDetector:
    from detect_secrets.plugins.aws import AWSKeyDetector

    return SecretDetector("aws-access-key", _rx("A(?:KIA|SIA|BIA|CCA|3T)"), (AWSKeyDetector.denylist[0],),
                          valid=_aws_key_id)


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


@register_detector("openai-project-key")
def _openai_project_key() -> SecretDetector:
    # Keys since 2024 lack the "T3BlbkFJ" marker the plugin needs: sk-proj-/sk-svcacct-/sk-admin- + a
    # long run, and the older plain "sk-" + 48 letters and digits.
    def has_digit(match: str) -> bool:
        return any(c.isdigit() for c in match)

    return SecretDetector("openai-project-key", _rx("sk-"),
                          _rx(r"(?<![\w-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}",
                              r"(?<![\w-])sk-[A-Za-z0-9]{48}(?![A-Za-z0-9])"), valid=has_digit)


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


def secret_findings(text: str, *, rel: str = "") -> list[str]:
    """Names of the detectors that fire on ``text`` (the file at ``rel``)."""
    return [det.name for det in _detectors() if det.fires(text, rel)]


def detector_names() -> tuple[str, ...]:
    """The registered secret detectors, for status output and docs."""
    return tuple(_DETECTORS)
