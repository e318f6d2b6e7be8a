"""Secret values named by their key are replaced in a file's text before it is chunked.

``password = "..."``, ``"apiKey": "..."``, ``db: {password: ...}``, ``connect(password="...")``,
``export DB_PASSWORD=...`` and ``scheme://user:PASSWORD@host`` hold a secret only because of what the
value is called, so these rules guess from context. A wrong guess should cost one value, not a file:
the value becomes ``[REDACTED]`` and the rest of the file stays searchable. Tokens of a known format
(AWS, GitHub, private keys, ...) are certain and skip the whole file instead (``secrets.py``).

Redaction runs on the whole text before chunking, so no chunk, embedding input, full-text column,
search hit or prompt ever holds the value; lines keep their numbers (a value never spans a line).

Cost follows the number of keyword occurrences, found with C-speed ``str.find``, not the number of
lines: most lines of most files are never looked at by a regex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

from .languages import language_for

REDACTED = "[REDACTED]"

# Words one of which every secret-sounding key contains; found lower-cased with str.find.
_KEYWORDS = ("pass", "pwd", "secret", "key", "token", "contras")
_SECRET_KEY = re.compile(  # searched in the lower-cased key
    r"""passw(?:or)?d|passphrase|pwd|(?<![a-z])pass(?![a-z])|secret|contrase(?:ñ|n)a
    |(?:api|auth|access|private|client|secret|signing|encryption|master|service|account|db|database)[_.\-]?key
    |(?:access|auth|api|bearer|refresh|id|session|oauth|bot|personal|private|secret|app|deploy|github
       |gitlab|slack|npm|pypi|hf)[_.\-]?token|(?:^|\.)token$""",
    re.VERBOSE,
)
# "secretName: x", "password_file: path", "max_tokens: 100" name or size a secret, they do not hold one.
_NAMING_KEY = re.compile(r"(?:name|ref|refs|file|path|id|type|length|len|policy|env|var|arn|manager|provider|"
                         r"store|dir|url|uri|endpoint|key_?id|mount|source|hash|count|limit|size|"
                         r"timeout|ttl|expiry|expires|header|prefix|field|param|regex|pattern|label|"
                         r"prompt|message|msg|title|text|placeholder|hint|help|description|format|"
                         r"template|validator|widget|class|mode|min|max|rule|rules|strength|"
                         r"reset|changed|change|input|form|view|attr|kind|flag|enabled)$",
                         re.IGNORECASE)

# After the key: the close of a quoted key or a subscript (``os.environ["KEY"] = ``), a Python type
# annotation, an operator, then a quoted value (also JSON-escaped \"...\" inside a notebook) or a bare
# word. ``==``, ``!=``, ``<=`` and ``::`` are not assignments.
_VALUE_AFTER_KEY = re.compile(
    r"""(?:\\?["'`])?\]?[ \t]*
    (?::[ \t]*[A-Za-z_][\w.\[\], |]{0,40}?[ \t]*(?==(?!=)))?
    (?::=|=>|=(?![=~])|:(?![:=]))[ \t]*
    (?:[rRbBuU]{0,2}(?P<q>\\?["'`])(?P<quoted>(?:(?!(?P=q))[^\n]){1,200}?)(?P=q)
      |(?P<bare>[^\s"'`\\,;#(){}\[\]<>|]+)(?P<after>[(\[]?)
    )""",
    re.VERBOSE,
)
# Credentials in a URL: the password between "user:" and "@".
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,20}://[^\s:/@\"'`]{0,64}:(?P<pw>[^\s:/@\"'`]{1,128})@")

# Placeholders, references (an ARN, a URL) and colours, which configs and docs hold instead of a secret.
_PLACEHOLDER = re.compile(
    r"(?:arn:|[a-z][a-z0-9+.\-]*://|#[0-9a-f]{3,8}$|.*(?:example|change.?me|placeholder|your[_ -]|xxx|"
    r"\*\*\*|\.\.\.|redacted|dummy|fake|sample|todo|replace|secrets?\.|env\(|environ|getenv|vault))",
    re.IGNORECASE)
_QUOTED_PLACEHOLDER_STARTS = ("$", "%", "<", "{", "[", "/", "~", "./", "../")
_BARE_PLACEHOLDER_STARTS = frozenset("$%@!&*<{[(^/~.")  # YAML tags, anchors, aliases; paths; templates
_NOT_VALUES = frozenset({
    "none", "null", "nil", "true", "false", "yes", "no", "on", "off", "required", "optional", "string", "str",
    "password", "passwd", "secret", "token", "test", "testing", "changeit", "empty", "default", "bearer",
    "undefined", "unknown", "hidden", "masked", "notset", "unset",
})
_TRAILING_ESCAPES = re.compile(r"(?:\\+[nrt])+$")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
# Languages where a bare word after "=" is an expression (a variable, a call), never a literal secret.
_CODE_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp",
                             "csharp", "ruby", "php", "kotlin", "swift", "scala", "lua"})


@dataclass(frozen=True, slots=True)
class SecretValue:
    """One value to hide: its span in the text and the rule that found it."""

    start: int
    end: int
    rule: str  # "assignment" or "url-password"


class Redaction(NamedTuple):
    """A text with its secret values replaced; ``count`` values were replaced."""

    text: str
    count: int


def looks_like_secret_value(value: str, *, quoted: bool = True) -> bool:
    """A literal that could be a real credential rather than a placeholder, a reference or a word.

    Real secrets have a digit or a symbol: a value of letters alone (``changeit``, ``NextToken``,
    ``password_reset``) is a name. Bare (unquoted) values also must not start like a YAML tag, alias,
    path or template, nor be a dotted reference (``settings.DB_PASSWORD``).
    """
    value = _TRAILING_ESCAPES.sub("", value)  # 'secret\\n' typed into a prompt is the word "secret"
    if len(value) < 6 or len(value) > 200 or any(c.isspace() for c in value):
        return False
    if value.lower() in _NOT_VALUES or value.replace(".", "").replace("_", "").isdigit():
        return False
    if quoted:
        if value.startswith(_QUOTED_PLACEHOLDER_STARTS):
            return False
    elif value[0] in _BARE_PLACEHOLDER_STARTS or _DOTTED_NAME.fullmatch(value):
        return False
    if _PLACEHOLDER.match(value):
        return False
    return not value.replace("_", "").replace("-", "").replace(".", "").isalpha()


_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_]+")
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "key",
                           "apikey", "token", "contraseña", "contrasena"})
# Words that may follow the secret word in a key that still holds one ("SECRET_KEY_BASE", "password2").
_SECRET_SUFFIXES = frozenset({"base", "prod", "production", "dev", "development", "staging", "stage", "test",
                              "live", "sandbox", "value", "val", "str", "plain", "plaintext", "raw", "old",
                              "new", "current", "confirm", "confirmation", "again", "encoded", "b64", "hex"})


def _is_secret_key(key: str) -> bool:
    """``DB_PASSWORD``, ``apiKey``, ``client_secret``, ``SECRET_KEY_BASE``; not ``secretName``,
    ``PasswordLastUsed``, ``SecretsManagerReadWrite`` or ``CustomerMasterKeySpec``, which name or
    describe a secret: at most one word from a short list may follow the secret word."""
    lowered = key.lower()
    if not _SECRET_KEY.search(lowered) or _NAMING_KEY.search(lowered.rstrip("_.-")):
        return False
    words = [w.lower() for w in _WORDS.findall(key)]
    last = max((i for i, w in enumerate(words) if w in _SECRET_WORDS), default=-1)
    if last == -1:  # the keyword sits inside a word ("passwort", "db_passwd1"): judged by _SECRET_KEY
        return True
    tail = words[last + 1:]
    return not tail or (len(tail) == 1 and (tail[0].isdigit() or tail[0] in _SECRET_SUFFIXES))


def _keyword_positions(text: str) -> list[int]:
    lowered = text.lower()
    if len(lowered) != len(text):  # a character changed length when lower-cased: offsets would drift
        return sorted(m.start() for m in re.finditer("|".join(_KEYWORDS), text, re.IGNORECASE))
    found: list[int] = []
    for word in _KEYWORDS:
        i = lowered.find(word)
        while i != -1:
            found.append(i)
            i = lowered.find(word, i + len(word))
    return sorted(found)


def _is_key_char(c: str) -> bool:
    return c.isalnum() or c in "_.-"


def _assignment_values(text: str, code: bool) -> list[SecretValue]:
    found: list[SecretValue] = []
    key_end = -1
    n = len(text)
    for i in _keyword_positions(text):
        if i < key_end:  # a second keyword inside the same key ("secret_key")
            continue
        start = i
        while start > 0 and _is_key_char(text[start - 1]):
            start -= 1
        key_end = i
        while key_end < n and _is_key_char(text[key_end]):
            key_end += 1
        if start and text[start - 1] in ":/@":  # part of an ARN, a URL, a path or a C++/Rust type path
            continue
        if not _is_secret_key(text[start:key_end]):
            continue
        m = _VALUE_AFTER_KEY.match(text, key_end)
        if m is None:
            continue
        if m.group("quoted") is not None:
            if looks_like_secret_value(m.group("quoted")):
                found.append(SecretValue(*m.span("quoted"), "assignment"))
        elif not code and not m.group("after") and looks_like_secret_value(m.group("bare"), quoted=False):
            found.append(SecretValue(*m.span("bare"), "assignment"))
    return found


def _url_passwords(text: str) -> list[SecretValue]:
    found: list[SecretValue] = []
    i = text.find("://")
    while i != -1:
        m = _URL_PASSWORD.search(text, max(0, i - 21), i + 200)
        if m and looks_like_secret_value(unquote(m.group("pw"))):  # "a%20secret" is two words
            found.append(SecretValue(*m.span("pw"), "url-password"))
        i = text.find("://", i + 3)
    return found


def find_secret_values(text: str, rel: str) -> list[SecretValue]:
    """The secret values in ``text`` (the file at ``rel``), sorted and without overlaps.

    In source code only quoted literals count (``password = getpass()`` is code); in configs, shell,
    docs and notebooks a bare word counts too (``password: hunter2x``, ``export DB_PASSWORD=...``).
    """
    code = language_for(rel) in _CODE_LANGUAGES
    spans = sorted({*_assignment_values(text, code), *_url_passwords(text)}, key=lambda v: (v.start, -v.end))
    merged: list[SecretValue] = []
    for value in spans:
        if merged and value.start < merged[-1].end:
            continue
        merged.append(value)
    return merged


def redact_secrets(text: str, rel: str) -> Redaction:
    """``text`` with every secret value replaced by ``[REDACTED]``."""
    values = find_secret_values(text, rel)
    if not values:
        return Redaction(text, 0)
    parts: list[str] = []
    pos = 0
    for v in values:
        parts += [text[pos:v.start], REDACTED]
        pos = v.end
    parts.append(text[pos:])
    return Redaction("".join(parts), len(values))


__all__ = ["REDACTED", "Redaction", "SecretValue", "find_secret_values", "looks_like_secret_value",
           "redact_secrets"]
