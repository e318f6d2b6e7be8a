"""A real S3-compatible server on 127.0.0.1 for the shared-index tests: moto's standalone server.

MinIO does not install from the package registries these machines reach; moto's server speaks the S3
REST API (including the conditional ``If-None-Match`` puts Lance commits with) and installs from PyPI.
It runs as its own process, so the index's writers and readers reach it over HTTP exactly as they
would reach S3 or MinIO.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ragpilot-test",
    "AWS_SECRET_ACCESS_KEY": "ragpilot-test-secret",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """``python -m moto.server`` on a free loopback port; :meth:`bucket` makes a fresh bucket."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto's server did not start: see {log_dir / 'moto.log'}") from None
                time.sleep(0.2)

    @property
    def env(self) -> dict[str, str]:
        """What a client of this server needs in its environment (as for MinIO)."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def bucket(self) -> str:
        """A new, empty bucket (S3 bucket names: lower case, digits, dashes)."""
        import boto3  # noqa: PLC0415 - comes with moto[server]

        name = f"ragpilot-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                              region_name=CREDENTIALS["AWS_REGION"])
        client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every object key in ``bucket``."""
        import boto3  # noqa: PLC0415

        client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                              region_name=CREDENTIALS["AWS_REGION"])
        keys: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def apply_env(env: dict[str, str], monkeypatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "RAGPILOT_STORAGE_OPTIONS"):
        if key in os.environ and key not in env:
            monkeypatch.delenv(key)
