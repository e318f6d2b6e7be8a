"""What is worth indexing: built-in name rules (lock files, binaries, secrets by name) and content checks.

Path rules run for every walked file, so they are set/suffix lookups, never regexes. Content checks run
only on new or changed files, after their bytes are read; secret detection lives in ``secrets.py``.
"""

from __future__ import annotations


from .secrets import secret_findings

# ----- built-in path rules ----------------------------------------------------------------------

VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj"})
BUILTIN_DIRS = frozenset({
    "node_modules", "bower_components", "jspm_packages", "__pycache__", ".venv", "venv",
    "build", "dist", "target", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".pytype", ".hypothesis", ".eggs", ".ipynb_checkpoints", ".gradle", ".idea", ".next", ".nuxt",
    ".svelte-kit", ".parcel-cache", ".turbo", ".cache", ".sass-cache", "htmlcov",
    ".terraform", ".serverless", ".dart_tool", ".pub-cache", "Pods", "DerivedData", ".stack-work",
    "zig-cache", ".zig-cache", "zig-out", "_build", "elm-stuff", ".ragpilot",
})
BUILTIN_DIR_SUFFIXES = (".egg-info", ".dist-info")
VENV_MARKER = "pyvenv.cfg"  # any directory holding one is a virtualenv
SECRET_DIRS = frozenset({".ssh", ".gnupg"})

BUILTIN_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", ".coverage"})
LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock",
    "poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock", "cargo.lock", "gemfile.lock", "composer.lock",
    "go.sum", "go.work.sum", "flake.lock", "mix.lock", "pubspec.lock", "podfile.lock",
    "packages.lock.json", "gradle.lockfile", "deno.lock", "conda-lock.yml", "cabal.project.freeze",
    "paket.lock", "shard.lock",
})
LOCK_SUFFIXES = (".lock", ".lockb", ".lock.json", ".lock.hcl", ".lock.yaml", ".lockfile")
MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".min.css", "-min.js", ".bundle.js", ".chunk.js", ".map")
BINARY_SUFFIXES = tuple(f".{ext}" for ext in """
    png jpg jpeg gif bmp ico icns webp tif tiff psd ai xcf heic avif svgz raw cr2 nef
    pdf doc docx xls xlsx ppt pptx odt ods odp pages numbers epub mobi
    zip gz tgz bz2 xz lz lzma zst 7z rar tar jar war ear apk aar ipa deb rpm dmg iso img msi cab
    class so dylib dll exe o a lib obj ko pyc pyo pyd whl egg wasm bin elf dSYM
    woff woff2 ttf otf eot fon
    mp3 mp4 m4a m4v wav ogg oga flac aac opus avi mov mkv webm wmv flv mpg mpeg 3gp
    sqlite sqlite3 db mdb accdb dbf parquet arrow feather orc avro lance npy npz pkl pickle joblib
    h5 hdf5 nc mat onnx pt pth safetensors gguf ggml ckpt tflite pb caffemodel mlmodel
    swf fla blend fbx glb 3ds max dwg kdbx gpg
""".split())

# Secret files by name. ".env.example" and friends are templates meant to be committed, so they are
# not secret *by name* — their content is still scanned like any other file.
ENV_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults", ".tmpl", ".tpl")
SECRET_NAMES = frozenset({
    ".env", ".envrc", ".npmrc", ".yarnrc.yml", ".pypirc", ".netrc", "_netrc", ".pgpass", ".my.cnf",
    ".git-credentials", ".htpasswd", ".boto", ".s3cfg", "secrets.yml", "secrets.yaml", "secrets.json",
    "secrets.toml", "terraform.tfstate", "terraform.tfstate.backup", "credentials",
})
SECRET_SUFFIXES = (
    ".pem", ".key", ".p12", ".pfx", ".p8", ".jks", ".keystore", ".kdbx", ".ppk", ".tfstate",
    ".tfstate.backup", ".ovpn", ".env", ".secret", ".secrets",
)
SSH_KEY_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk")
# "credentials.json" holds credentials; "credentials.py" is code that handles them.
CREDENTIAL_DATA_PREFIXES = ("credentials", "client_secret", "service-account", "service_account")
DATA_SUFFIXES = (".json", ".yml", ".yaml", ".xml", ".csv", ".txt", ".ini", ".toml", ".cfg", ".conf")
SECRET_PATH_SUFFIXES = (".aws/credentials", ".aws/config", ".docker/config.json", ".kube/config",
                        ".config/gh/hosts.yml", ".azure/accesstokens.json")


def is_secret_name(rel: str, lname: str) -> bool:
    """True for files that hold credentials by convention; ``lname`` is the lower-cased base name."""
    if lname in SECRET_NAMES or lname.endswith(SECRET_SUFFIXES):
        return True
    if lname.startswith(".env."):
        return not lname.endswith(ENV_TEMPLATE_SUFFIXES)
    if lname.startswith(SSH_KEY_PREFIXES):
        return True
    if lname.startswith(CREDENTIAL_DATA_PREFIXES) and lname.endswith(DATA_SUFFIXES):
        return True
    return "/" in rel and rel.lower().endswith(SECRET_PATH_SUFFIXES)


def builtin_dir_reason(name: str) -> str | None:
    """"builtin-dir" for dependency, cache and build-output directories; VCS dirs are checked apart."""
    if name in BUILTIN_DIRS or name.endswith(BUILTIN_DIR_SUFFIXES):
        return "builtin-dir"
    return None


def builtin_file_reason(lname: str) -> str | None:
    """Name-only verdict for a file (lower-cased base name): lockfile, minified, binary or builtin-file."""
    if lname in LOCK_FILES or lname.endswith(LOCK_SUFFIXES):
        return "lockfile"
    if lname.endswith(BINARY_SUFFIXES):
        return "binary"
    if lname.endswith(MINIFIED_SUFFIXES):
        return "minified"
    if lname in BUILTIN_FILES:
        return "builtin-file"
    return None


# ----- text decoding ----------------------------------------------------------------------------

_SNIFF_BYTES = 8192
# Bytes that occur in text: printable ASCII, whitespace, ESC, and everything >= 0x80.
_TEXT_BYTES = bytes({7, 8, 9, 10, 11, 12, 13, 27} | set(range(0x20, 0x7F)) | set(range(0x80, 0x100)))


def decode_text(data: bytes) -> str | None:
    """Bytes -> text, or None when the file is not text we can read faithfully.

    UTF-8 (a BOM is dropped) and BOM-marked UTF-16 are decoded exactly. Anything else falls back to
    cp1252 only when it is clearly text (no control bytes, at most 20% non-ASCII): a legacy-encoded
    source file keeps its code searchable. cp1252 leaves five bytes undefined, which rejects most
    CJK legacy encodings instead of indexing mojibake.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return None if "\x00" in text else text
    if data.translate(None, _TEXT_BYTES) or _non_ascii_share(data) > 0.2:
        return None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _non_ascii_share(data: bytes) -> float:
    return (len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))) / max(1, len(data))


def _looks_binary(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text is full of NULs but is text
        return False
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return True
    # Many control bytes in the head: a binary format without NULs (rare, but cheap to catch).
    return len(head.translate(None, _TEXT_BYTES)) > len(head) // 10


# ----- minified / generated ---------------------------------------------------------------------

# Only bundler output is dropped by content; a long-lined source file in any other language is kept
# (the chunker splits over-long lines), because dropping hand-written code silently is worse.
_GENERATED_PRONE = (".js", ".mjs", ".cjs", ".css", ".json", ".svg", ".html", ".htm", ".xml")
_MIN_AVG_LINE = 300
_MIN_MAX_LINE = 1000


def is_minified(rel: str, text: str) -> bool:
    """Bundler/minifier output: a web asset whose lines average > 300 chars with one over 1000."""
    if not rel.lower().endswith(_GENERATED_PRONE) or len(text) <= _MIN_MAX_LINE:
        return False
    if len(text) / (text.count("\n") + 1) <= _MIN_AVG_LINE:
        return False
    return max(map(len, text.split("\n"))) > _MIN_MAX_LINE


def content_skip_reason(rel: str, data: bytes, *, scan_secrets: bool = True) -> str | None:
    """Why a file's bytes should not be indexed: "binary", "not-utf8", "secret", "minified"; None = keep.

    A file with a token of a known format is skipped whole ("secret"). Values that are secret only by
    their name (``password = "..."``) are redacted from a kept file by ``redact.py`` instead.
    """
    if _looks_binary(data):
        return "binary"
    text = decode_text(data)
    if text is None:
        return "not-utf8"
    if scan_secrets and secret_findings(text, rel=rel):
        return "secret"
    if is_minified(rel, text):
        return "minified"
    return None
