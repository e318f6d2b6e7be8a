"""An index that lives at a URI (``--index-uri``): object storage or a shared folder, not a local folder.

A shared index keeps *everything* in one LanceDB database at the URI: the chunk table with its
full-text indices, the per-file catalog, the embedding cache, the metadata and the writer lease are
all Lance tables there (see store_tables.py and lease.py), so any machine that can reach the URI can
read it, and the next writer, on any machine, continues where the last one stopped.

Each process still has a small *local* folder for what only it needs (its writer lock file, the
``server-<pid>.json`` records of `serve`/`watch`, the watcher's status): ``<home>/stores/<name>-<hash>``.
That folder holds ``store.json``, the binding that names the URI; every reader and writer handed the
local folder finds the shared index through it. The binding never holds credentials: those come from
the environment at run time (:func:`storage_options`).

URIs: ``s3://bucket/prefix`` (AWS or any S3-compatible server: ``AWS_ENDPOINT_URL`` names it,
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_REGION`` the credentials and region),
``gs://bucket/prefix`` (``GOOGLE_APPLICATION_CREDENTIALS`` / ``GOOGLE_SERVICE_ACCOUNT``),
``az://container/prefix`` (``AZURE_STORAGE_ACCOUNT_NAME`` / ``AZURE_STORAGE_ACCOUNT_KEY``), or a path
(a folder on a shared file system). ``RAGPILOT_STORAGE_OPTIONS`` (a JSON object) passes any other
LanceDB storage option through.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

BINDING_FILE = "store.json"
OBJECT_STORE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")


@dataclass(frozen=True)
class StoreBinding:
    """A local folder's link to the shared index it stands for."""

    uri: str

    @property
    def remote(self) -> bool:
        """On object storage (no local path to look at), not a shared folder."""
        return scheme(self.uri) in OBJECT_STORE_SCHEMES

    def storage_options(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        return storage_options(self.uri, environ)


def scheme(uri: str) -> str:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", uri)
    return match.group(1).lower() if match else ""


def normalise_uri(value: str) -> str:
    """``s3://bucket/prefix`` as given (without a trailing slash); a path made absolute; anything else
    (http://, a typo'd scheme) a clear error now rather than a storage error later."""
    text = value.strip()
    if not text:
        raise UsageError("--index-uri is empty")
    kind = scheme(text)
    if kind in OBJECT_STORE_SCHEMES:
        bucket_and_prefix = text.split("://", 1)[1].strip("/")
        if not bucket_and_prefix:
            raise UsageError(f"{value}: name a bucket (and a prefix), e.g. {kind}://bucket/ragpilot/myrepo")
        return f"{kind}://{bucket_and_prefix}"
    if kind == "file":
        text = text[len("file://"):]
    elif kind:
        raise UsageError(
            f"{value}: an index URI is s3://, gs://, az:// or a folder path (got {kind}://)")
    return str(Path(text).expanduser().resolve())


def local_folder(home: Path, uri: str) -> Path:
    """This machine's folder for the shared index at ``uri`` (lock file, server records, binding)."""
    digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", uri.rstrip("/").rsplit("/", 1)[-1])[:40] or "store"
    return (home.expanduser() / "stores" / f"{name}-{digest}").resolve()


def bind(home: Path, value: str) -> Path:
    """The local folder standing for the index at ``value``, with its binding written (idempotent)."""
    uri = normalise_uri(value)
    folder = local_folder(home, uri)
    path = folder / BINDING_FILE
    text = json.dumps({"uri": uri}, indent=2)
    try:
        if not path.exists() or path.read_text("utf-8") != text:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, "utf-8")
            os.replace(tmp, path)
    except OSError as err:
        raise UsageError(f"cannot write {path} (the local folder for {uri}): {err}") from err
    return folder


def binding(index_dir: Path) -> StoreBinding | None:
    """The shared index ``index_dir`` stands for, or None for an ordinary local index."""
    path = Path(index_dir) / BINDING_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise UsageError(f"{path} cannot be read ({err}): remove it and pass --index-uri again") from err
    return StoreBinding(str(data["uri"]))


def storage_options(uri: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """LanceDB storage options for ``uri`` from the environment: an S3-compatible endpoint
    (``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``; plain http allowed for it) and region, then
    ``RAGPILOT_STORAGE_OPTIONS``. Credentials stay in the environment, where LanceDB reads them."""
    env = os.environ if environ is None else environ
    options: dict[str, str] = {}
    if scheme(uri) in ("s3", "s3a"):
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if endpoint:
            options["aws_endpoint"] = endpoint
            if endpoint.startswith("http://"):
                options["allow_http"] = "true"
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            options["aws_region"] = region
    extra = env.get("RAGPILOT_STORAGE_OPTIONS")
    if extra:
        try:
            parsed = json.loads(extra)
        except ValueError as err:
            raise UsageError(f"RAGPILOT_STORAGE_OPTIONS is not JSON ({err})") from err
        if not isinstance(parsed, dict):
            raise UsageError("RAGPILOT_STORAGE_OPTIONS must be a JSON object of storage options")
        options.update({str(k): str(v) for k, v in parsed.items()})
    return options
