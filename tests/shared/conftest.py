"""One S3-compatible server (moto, on 127.0.0.1) for the shared-index tests; each test gets its own bucket."""

from __future__ import annotations

from pathlib import Path

import pytest
from object_store import S3Server, apply_env


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    server = S3Server(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def s3_uri(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<new bucket>/team/repo`` with this process's environment pointed at the server."""
    apply_env(s3_server.env, monkeypatch)
    return f"s3://{s3_server.bucket()}/team/repo"


@pytest.fixture
def machine_a(tmp_path: Path) -> Path:
    """One machine's ragpilot home (its local folders); ``machine_b`` is another's."""
    return tmp_path / "machine-a"


@pytest.fixture
def machine_b(tmp_path: Path) -> Path:
    return tmp_path / "machine-b"
