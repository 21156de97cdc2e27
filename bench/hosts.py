"""Several "hosts" on one machine: web and image workers that share no folder, only PostgreSQL, Redis and
an S3-compatible server.

Each process runs in its own working directory, with its own FTMV_VAR_DIR and MEDIA_ROOT inside it, so a
file written to local disk by one "host" is invisible to the others, as on separate machines. Media go
through moto's standalone S3 server (`moto_server`, the S3 HTTP API on loopback), which the topology
starts and fills with an empty private bucket. Used by tests/reliability/test_multihost.py; a load
benchmark can run its clients against the same topology:

    from bench.hosts import Topology

    with Topology(
        Path("/tmp/hosts"),
        database_url="postgres://postgres@127.0.0.1:5432/ftmv_load",  # migrated already
        redis_url="redis://127.0.0.1:6379/13",
        env={"DJANGO_SETTINGS_MODULE": "ftmv.settings", "DEBUG": "false", "SECRET_KEY": "...",
             "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false"},  # plain http on loopback
    ) as hosts:
        web = hosts.start_web("host-a")          # gunicorn; web.url is its base URL
        hosts.start_worker("host-b")             # an image worker (queue "images")
        hosts.start_worker("host-a-jobs", queues="default,webhooks")  # one name (folder) per process
        hosts.start("beat", ["celery", "-A", "ftmv", "beat"], folder="host-a")  # a process on host A's folder
        ...                                      # clients talk to web.url; results live in hosts.s3
        hosts.stop("host-b")                     # one host goes away mid-run

Leaving the `with` block stops every process (SIGTERM, then SIGKILL) and the S3 server. Logs are
<base>/<host>/process.log (and <base>/s3/process.log); a process started with ``folder`` logs to
<base>/<folder>/<name>.log. Nothing here imports Django: the processes do.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@dataclass
class Host:
    """One process of the topology, in its own directory."""

    name: str
    directory: Path
    process: subprocess.Popen
    log_path: Path
    url: str = ""  # the base URL of a web host

    @property
    def media_root(self) -> Path:
        return self.directory / "media"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def local_files(self) -> list[Path]:
        """Every file under this host's own MEDIA_ROOT and var folder (expected: no media at all), not the logs
        of the processes that share the folder."""
        logs = set(self.directory.glob("*.log")) | {self.log_path}
        return [p for p in self.directory.rglob("*") if p.is_file() and p not in logs]

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the process group (a worker returns orders in flight to the queue), SIGKILL if slow."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class S3Server:
    """moto's S3 server on a loopback port with one bucket; ``env`` configures ftmv to use it."""

    endpoint: str
    bucket: str
    host: Host
    region: str = "us-east-1"
    env: dict[str, str] = field(default_factory=dict)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _wait_until(check, timeout: float, what: str, host: Host) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            break
        if check():
            return
        time.sleep(0.3)
    raise RuntimeError(f"{host.name}: {what} not within {timeout:.0f}s; log:\n{host.logs()[-4000:]}")


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=5)
    except requests.ConnectionError:
        return False
    return True


class Topology:
    """S3 server + web + workers, each "host" in base/<name>; see the module docstring."""

    def __init__(self, base: Path, *, database_url: str, redis_url: str, env: dict[str, str] | None = None):
        self.base = base
        self.common_env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.hosts: dict[str, Host] = {}
        self.s3 = self._start_s3()

    def __enter__(self) -> Topology:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for host in reversed(list(self.hosts.values())):
            host.stop()
        self.s3.host.stop()

    def _spawn(self, name: str, command: list[str], env: dict[str, str], folder: str | None = None) -> Host:
        directory = self.base / (folder or name)
        # A folder of its own must be new; a host's folder is shared by the processes started on it.
        directory.mkdir(parents=True, exist_ok=folder is not None)
        log_path = directory / (f"{name}.log" if folder else "process.log")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=directory,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Host(name, directory, process, log_path)

    def _start_s3(self) -> S3Server:
        port = free_port()
        host = self._spawn("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], {})
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until(lambda: _answers(endpoint), 60, "the S3 server answering", host)
        bucket = f"ftmv-media-{uuid.uuid4().hex[:8]}"
        server = S3Server(
            endpoint,
            bucket,
            host,
            env={
                "AWS_STORAGE_BUCKET_NAME": bucket,
                "AWS_S3_ENDPOINT_URL": endpoint,
                "AWS_S3_REGION_NAME": "us-east-1",
                "AWS_S3_ADDRESSING_STYLE": "path",
                "AWS_ACCESS_KEY_ID": "multihost-test",
                "AWS_SECRET_ACCESS_KEY": "multihost-test-secret",
            },
        )
        server.client().create_bucket(Bucket=bucket)
        return server

    def host_env(self, name: str) -> dict[str, str]:
        """The environment of a process on host ``name``: shared services, and folders of its own."""
        directory = self.base / name
        return {
            **self.common_env,
            **self.s3.env,
            "FTMV_VAR_DIR": str(directory / "var"),
            "MEDIA_ROOT": str(directory / "media"),
        }

    def start_web(self, name: str, *, workers: int = 1, env: dict[str, str] | None = None) -> Host:
        """gunicorn on a free loopback port; returns once it answers HTTP (``host.url``)."""
        port = free_port()
        # No control socket: its default path is in $HOME, which the "hosts" of one machine share.
        command = [str(BIN / "gunicorn"), "ftmv.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        command.append("--no-control-socket")
        host = self._spawn(name, command, {**self.host_env(name), "WEB_PORT": str(port), **(env or {})})
        host.url = f"http://127.0.0.1:{port}"
        self.hosts[name] = host
        _wait_until(lambda: _answers(f"{host.url}/api/v1/nothing"), 60, "gunicorn answering", host)
        return host

    def start_worker(
        self, name: str, *, queues: str = "images", concurrency: int = 1, env: dict[str, str] | None = None
    ) -> Host:
        """A Celery worker on ``queues``; returns once it reports ready (connected to the broker)."""
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ftmv",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
        ]
        host = self._spawn(name, command, {**self.host_env(name), **(env or {})})
        self.hosts[name] = host
        _wait_until(lambda: " ready." in host.logs(), 90, "the worker ready", host)
        return host

    def start(
        self, name: str, command: list[str], *, folder: str | None = None, env: dict[str, str] | None = None
    ) -> Host:
        """Any command (e.g. a Procfile line) as process ``name``, running in ``folder``: the folder of a host
        whose processes share its FTMV_VAR_DIR and MEDIA_ROOT (default: a folder of its own, base/<name>).
        Returns at once: the caller knows what "ready" means for its command."""
        if name in self.hosts:
            raise ValueError(f"a process named {name} is running already")
        host = self._spawn(name, command, {**self.host_env(folder or name), **(env or {})}, folder)
        self.hosts[name] = host
        return host

    def stop(self, name: str) -> None:
        self.hosts[name].stop()
