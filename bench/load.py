"""Load run: simulated API clients against the real processes, on several setups side by side in one run.

    .venv/bin/python bench/load.py --setups defaults,pg-redis --clients 8 --duration 75 --rounds 3
    .venv/bin/python bench/load.py --setups defaults,pg-redis --rounds 3 --baseline-rev 4d4f01c
    .venv/bin/python bench/load.py --setups pg-redis,multi-host --clients 8 --duration 60 --rounds 2

A *setup* is one way of running the service. Each run of a setup gets its own scratch folder (FTMV_VAR_DIR:
media, logs, beat schedule) and its own fresh database, and runs every process of the Procfile (web,
image worker, housekeeping, webhooks when the code has it, beat) with production settings (DEBUG off):

- ``defaults``: the embedded backends exactly as `make run` uses them: SQLite database, the SQLite-backed
  Celery broker and the database cache, all in the scratch folder (DATABASE_URL, REDIS_URL and
  CELERY_BROKER_URL removed from the environment).
- ``pg-redis``: PostgreSQL ``postgres://postgres@127.0.0.1:5432/<scratch database>`` (created for the run,
  dropped afterwards unless --keep) and Redis ``redis://127.0.0.1:6379/13`` as broker and cache (db 13 is
  the bench's own: it is emptied before each run). --pg-url and --redis-url change the servers. This is
  the single-host production setup: media on the host's disk, one image worker.
- ``multi-host``: the README's "Production on two hosts" on this machine (bench.hosts.Topology): each
  "host" a folder of its own (FTMV_VAR_DIR, MEDIA_ROOT, metric files) meeting the others only through the
  same PostgreSQL and Redis as ``pg-redis`` and moto's S3 server (media in a bucket). Host A runs the
  Procfile's web, housekeeping, webhooks and beat; hosts B and C each run the Procfile's image worker.
  Against ``pg-redis`` it differs in: two image workers instead of one (each with --workers concurrency),
  media through S3 instead of local disk, gunicorn given the project's gunicorn.conf.py explicitly and
  without a control socket (it runs in its host's folder), and worker node names naming their host. All
  the "hosts" share this machine's cores, so on a small machine it measures the cost of the layout, not the
  capacity a second image host adds.

Each run gives every client its own paid account with credits and an API key, and runs the clients on
loopback for --duration seconds: each submits an order (alternating try-on of scikit-image's astronaut
with a drawn T-shirt, and a 6-image catalog of a drawn mug), polls it every --poll seconds until it
finishes, then submits the next. Afterwards it waits (bounded by --grace) for the orders still running,
stops the processes, and checks every order and ledger in the database.

--rounds N interleaves the setups (A B A B ...) so that a noisy machine spreads its noise over all of
them; the table shows the median per setup of throughput and latencies, and the totals of errors and
orders over all rounds. --baseline-rev REV also runs every setup from a ``git worktree`` of REV (an older
revision, e.g. the commit before a change), interleaved with the current tree, and prints both columns;
--candidate-rev REV runs a revision instead of the working tree (e.g. a merge against its first
parent, to see exactly what one merge changed). Both use this tree's virtual environment.

Output: the side-by-side table (orders/min completed over the wall time, p50/p99 of POST /generate and
of polling, HTTP errors by status, orders completed / failed-and-refunded / lost, ledgers balanced, the
service's own counters against the database), the problems found, and with --json PATH every run's figures.
An order counts as lost when it is neither completed (charged once) nor failed and refunded once when the
run ends, --grace included.

Metrics: when the code serves /metrics, each run reads it (with a METRICS_TOKEN of the run's) after the
clients finish and before the processes stop, and compares the counters (orders created, completed,
failed; credits spent, refunded; every label added up) with the same figures in the database; any
difference is a problem. The counts are kept per host: on ``multi-host`` the image worker hosts, which
run no web process, serve theirs on WORKER_METRICS_PORT, and the bench adds them to host A's /metrics as
Prometheus adds up the hosts it scrapes; the per-host figures are printed too.

Adding a setup: subclass ``Setup`` with a ``name`` and a ``start(code, scratch, opts)`` that starts the
processes wherever they run and returns a ``Running``: the base URL clients call, ``env`` (the Django
environment with which *this* machine reaches the same database, for the accounts before and the check
after), ``stop()`` (stops the processes; returns problems seen, such as a process that died),
``cleanup()`` (drops scratch data once the check is done) and ``metrics()`` (the Prometheus text of every
host, read before ``stop()``; None when the code serves none). Register it in SETUPS.
``procfile_commands(code, env)`` gives the Procfile's commands for a code tree, so remote processes start
exactly as local ones; ``LocalSetup`` shows the whole life of a run on this machine, and a subclass only
chooses the backends (backend_env); ``MultiHost`` starts the same commands on bench.hosts' "hosts".
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import requests
from PIL import Image
from skimage import data as skdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hosts import Host, Topology, free_port  # noqa: E402

VENV_BIN = Path(sys.executable).parent
CREDITS = 2000
# Settings the setups decide: never inherited from the caller's environment.
BACKEND_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CACHE_KEY_PREFIX",
    "FTMV_VAR_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "PROMETHEUS_MULTIPROC_DIR",
)


# --- requests the clients send ------------------------------------------------------------------------


def jpeg_b64(rgb: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90)
    return base64.b64encode(out.getvalue()).decode()


def request_bodies() -> list[dict]:
    shirt = np.full((600, 600, 3), 255, np.uint8)
    outline = [[180, 80], [250, 60], [350, 60], [420, 80], [560, 200], [500, 260], [440, 210], [440, 540]]
    outline += [[160, 540], [160, 210], [100, 260], [40, 200]]
    cv2.fillPoly(shirt, [np.array(outline, np.int32)], (30, 60, 200))
    mug = np.full((500, 500, 3), 250, np.uint8)
    cv2.rectangle(mug, (170, 140), (330, 380), (40, 90, 170), -1)
    cv2.ellipse(mug, (330, 260), (60, 70), 0, -90, 90, (40, 90, 170), 18)
    options = {"quality": "standard", "format": "jpg"}
    return [
        {
            "style": "virtual_tryon",
            "person_image": jpeg_b64(skdata.astronaut()),
            "clothing_image": jpeg_b64(shirt),
            "options": options,
        },
        {"style": "product_catalog", "quantity": 6, "product_image": jpeg_b64(mug), "options": options},
    ]


# --- code trees ---------------------------------------------------------------------------------------


@dataclass
class Code:
    """A source tree to run: this working tree, or a ``git worktree`` of a revision."""

    label: str
    root: Path
    worktree: bool = False

    def remove(self) -> None:
        if self.worktree:
            subprocess.run(["git", "worktree", "remove", "--force", str(self.root)], cwd=ROOT, check=False)


def code_at(rev: str, scratch: Path) -> Code:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    root = scratch / f"tree-{commit}"
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)  # trees of interrupted runs
    subprocess.run(["git", "worktree", "add", "--detach", str(root), commit], cwd=ROOT, check=True)
    return Code(label=commit if rev == commit else f"{rev} ({commit})", root=root, worktree=True)


def procfile_commands(code: Code, env: dict[str, str], scratch: Path) -> dict[str, list[str]]:
    """Each Procfile process of ``code`` as an argv: ``${VAR:-default}`` from ``env``, this virtual
    environment's programs, without the keepalive wrapper (a crash must show, not be restarted), and
    beat's schedule file in the scratch folder."""
    commands = {}
    for line in (code.root / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if not command.strip():
            continue
        expanded = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m[1]) or m[2], command)
        words = shlex.split(expanded)
        if "--" in words and any(w.endswith("keepalive.py") for w in words[: words.index("--")]):
            words = words[words.index("--") + 1 :]
        words = [str(VENV_BIN / w.rsplit("/", 1)[1]) if w.startswith(".venv/bin/") else w for w in words]
        if "--schedule" in words:
            words[words.index("--schedule") + 1] = str(scratch / "celerybeat-schedule")
        commands[name.strip()] = words
    return commands


# --- setups -------------------------------------------------------------------------------------------


@dataclass
class Options:
    clients: int
    web_workers: int
    workers: int
    pg_url: str
    redis_url: str
    keep: bool
    run: str


@dataclass
class Running:
    base_url: str
    env: dict[str, str]
    stop: Callable[[], list[str]]
    cleanup: Callable[[], None] = lambda: None
    # Read while the processes still run: each source's Prometheus text, or None when the code has no /metrics.
    metrics: Callable[[], dict[str, str] | None] = lambda: None


class Setup:
    """How the service runs: subclasses set ``name`` and implement ``start``."""

    name = ""
    describe = ""

    def start(self, code: Code, scratch: Path, opts: Options) -> Running:
        raise NotImplementedError


def service_env(opts: Options) -> dict[str, str]:
    """Production settings every process of every setup gets; the backends and folders come on top. The
    metrics token is the scraper's (``scrape``): a caller's own loopback rules or token never matter."""
    env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ftmv.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "CACHE_KEY_PREFIX": f"load{secrets.token_hex(3)}",
            "ONNX_PROVIDERS": os.environ.get("ONNX_PROVIDERS", "CPUExecutionProvider"),
            "API_AUTH_FAILURE_LIMIT": "1000",
            "WEB_CONCURRENCY": str(opts.web_workers),
            "WORKER_CONCURRENCY": str(opts.workers),
            "METRICS_TOKEN": secrets.token_urlsafe(24),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def prepare_database(code: Code, env: dict[str, str]) -> None:
    """What a release does once to the database before its processes start."""
    for command in (["migrate", "--noinput", "-v", "0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=code.root, env=env, check=True)


def collect_static(code: Code, env: dict[str, str]) -> None:
    """The web host's release step: with DEBUG off, pages (a 404 included) need the static files' manifest."""
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(command, cwd=code.root, env=env, check=True)


def scrape(base: str, env: dict[str, str]) -> str | None:
    """/metrics read as a Prometheus scraper reads it (bearer token); None when this code serves none."""
    headers = {"Authorization": f"Bearer {env['METRICS_TOKEN']}"}
    response = requests.get(f"{base}/metrics", headers=headers, timeout=30)
    # A web without the route answers 404; a worker host's exporter answers every path.
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.text


def stop_all(processes: dict[str, subprocess.Popen], logs: dict[str, Path]) -> list[str]:
    """SIGTERM to every process group at once (workers return orders in flight), SIGKILL to the slow ones;
    returns the processes that had exited before."""
    problems = [
        f"{name} exited early (code {p.returncode}); see {logs[name]}"
        for name, p in processes.items()
        if p.poll() is not None
    ]
    for p in processes.values():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in processes.values():
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return problems


class LocalSetup(Setup):
    """Every Procfile process on this machine, on the backends ``backend_env`` chooses."""

    def backend_env(self, scratch: Path, opts: Options) -> dict[str, str]:
        """Settings that choose the backends (creating what they need); default: the embedded ones."""
        return {}

    def discard(self, scratch: Path, opts: Options, env: dict[str, str]) -> None:
        """Drop what backend_env created (after the check)."""

    def start(self, code: Code, scratch: Path, opts: Options) -> Running:
        port = free_port()
        env = {**service_env(opts), "FTMV_VAR_DIR": str(scratch), "WEB_PORT": str(port)}
        env.update(self.backend_env(scratch, opts))
        log_dir = scratch / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        processes: dict[str, subprocess.Popen] = {}
        logs: dict[str, Path] = {}
        base = f"http://127.0.0.1:{port}"
        try:
            prepare_database(code, env)
            collect_static(code, env)
            for name, argv in procfile_commands(code, env, scratch).items():
                logs[name] = log_dir / f"{name}.log"
                processes[name] = subprocess.Popen(
                    argv,
                    cwd=code.root,
                    env=env,
                    stdout=logs[name].open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            wait_until_up(base, processes, logs)
        except BaseException:
            stop_all(processes, logs)
            if not opts.keep:
                self.discard(scratch, opts, env)
            raise

        def metrics() -> dict[str, str] | None:
            text = scrape(base, env)
            return None if text is None else {"/metrics": text}

        return Running(
            base,
            env,
            lambda: stop_all(processes, logs),
            lambda: None if opts.keep else self.discard(scratch, opts, env),
            metrics,
        )


def wait_until_up(
    base: str, processes: dict[str, subprocess.Popen], logs: dict[str, Path], timeout: float = 180
) -> None:
    """The web answers /healthz and every Celery worker has logged that it is ready."""
    workers = [name for name, p in processes.items() if "worker" in p.args]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [name for name, p in processes.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while starting; see {', '.join(str(logs[n]) for n in dead)}")
        try:
            web = requests.get(f"{base}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            web = False
        if web and all(" ready." in logs[n].read_text(errors="replace") for n in workers):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the processes did not come up within {timeout:.0f} s; see {sorted(set(logs.values()))}")


class Defaults(LocalSetup):
    name = "defaults"
    describe = "SQLite + SQLite broker + database cache"


def scratch_database(scratch: Path, opts: Options) -> dict[str, str]:
    """A new PostgreSQL database for this run, and the bench's Redis db emptied (no queue left from a run
    before): DATABASE_URL and REDIS_URL."""
    import psycopg
    import redis

    redis.Redis.from_url(opts.redis_url).flushdb()
    name = f"ftmv_load_{opts.run}_{scratch.name}".replace("-", "_").lower()
    with psycopg.connect(admin_url(opts.pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return {"DATABASE_URL": urlsplit(opts.pg_url)._replace(path=f"/{name}").geturl(), "REDIS_URL": opts.redis_url}


def drop_database(opts: Options, env: dict[str, str]) -> None:
    import psycopg

    if "DATABASE_URL" not in env:
        return  # scratch_database failed before making one
    name = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    with psycopg.connect(admin_url(opts.pg_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgRedis(LocalSetup):
    name = "pg-redis"
    describe = "one host: PostgreSQL + Redis, media on local disk, every Procfile process (1 image worker)"

    def backend_env(self, scratch: Path, opts: Options) -> dict[str, str]:
        return scratch_database(scratch, opts)

    def discard(self, scratch: Path, opts: Options, env: dict[str, str]) -> None:
        drop_database(opts, env)


def admin_url(url: str) -> str:
    return urlsplit(url)._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)


class MultiHost(Setup):
    """The README's "Production on two hosts" on this machine, through bench.hosts.Topology: every "host" a
    folder of its own (its FTMV_VAR_DIR, MEDIA_ROOT and metric files), meeting the others only through
    PostgreSQL, Redis and moto's S3 server. Host A runs the Procfile's web, housekeeping, webhooks and beat;
    hosts B and C each run the Procfile's image worker and serve their workers' metrics on a port of their
    own (WORKER_METRICS_PORT), as a host without a web process does."""

    name = "multi-host"
    describe = (
        "PostgreSQL + Redis + S3 (moto); host A: web, housekeeping, webhooks, beat; hosts B, C: 1 image worker each"
    )
    HOST_A = ("web", "housekeeping", "webhooks", "beat")
    IMAGE_HOSTS = ("host-b", "host-c")

    def start(self, code: Code, scratch: Path, opts: Options) -> Running:
        port = free_port()
        # The bench's own folder: what this machine's migrate and account helpers need as FTMV_VAR_DIR.
        env = {**service_env(opts), "FTMV_VAR_DIR": str(scratch / "bench"), "WEB_PORT": str(port)}
        # Topology's processes inherit this machine's environment: the broker is pinned too, not inherited.
        env["CELERY_BROKER_URL"] = opts.redis_url
        base = f"http://127.0.0.1:{port}"
        topology: Topology | None = None
        try:
            env.update(scratch_database(scratch, opts))
            prepare_database(code, env)
            # The processes import the code tree being measured (a revision's worktree, or this one).
            topology = Topology(
                scratch / "hosts",
                database_url=env["DATABASE_URL"],
                redis_url=opts.redis_url,
                env={k: v for k, v in env.items() if k != "FTMV_VAR_DIR"} | {"PYTHONPATH": str(code.root)},
            )
            collect_static(code, {**env, **topology.host_env("host-a")})
            commands = procfile_commands(code, env, topology.base / "host-a")
            started: list[Host] = []
            for name in self.HOST_A:
                if name in commands:  # an older revision may have no webhooks worker
                    started.append(self._start(topology, code, name, commands[name], "host-a"))
            metric_ports = {folder: free_port() for folder in self.IMAGE_HOSTS}
            for folder in self.IMAGE_HOSTS:
                port_env = {"WORKER_METRICS_PORT": str(metric_ports[folder])}
                started.append(self._start(topology, code, f"worker-{folder}", commands["worker"], folder, port_env))
            processes = {f"{h.directory.name}/{h.name}": h.process for h in started}
            logs = {f"{h.directory.name}/{h.name}": h.log_path for h in started}
            wait_until_up(base, processes, logs)
        except BaseException:
            if topology is not None:
                topology.close()
            if not opts.keep:
                drop_database(opts, env)
            raise
        hosts = topology
        assert hosts is not None

        def stop() -> list[str]:
            problems = [
                f"{name} exited early (code {p.returncode}); see {logs[name]}"
                for name, p in processes.items()
                if p.poll() is not None
            ]
            hosts.close()
            return problems

        def metrics() -> dict[str, str] | None:
            text = scrape(base, env)
            if text is None:
                return None
            sources = {"host A /metrics": text}
            for folder, metrics_port in metric_ports.items():
                where = f"http://127.0.0.1:{metrics_port}"
                try:
                    sources[f"{folder} WORKER_METRICS_PORT"] = scrape(where, env) or ""
                except requests.ConnectionError:
                    # Code whose workers cannot serve their host's counts: they are missing from the sum,
                    # which the comparison with the database then shows.
                    sources[f"{folder} (no worker metrics served)"] = ""
            return sources

        return Running(base, env, stop, lambda: None if opts.keep else drop_database(opts, env), metrics)

    @staticmethod
    def _start(
        topology: Topology, code: Code, name: str, argv: list[str], folder: str, env: dict[str, str] | None = None
    ) -> Host:
        """One Procfile process on a host's folder. What differs from one host, where the processes run in the
        project folder: gunicorn is pointed at the project's gunicorn.conf.py (read from the working folder
        otherwise) and has no control socket, and a worker's node name names its host (``%h`` is this one
        machine's name for all)."""
        argv = [w.replace("@%h", f"@{folder}") for w in argv]
        if name == "web":
            # Hosts on one machine share $HOME, where gunicorn's control socket would go.
            argv = [*argv, "--no-control-socket"]
            if (code.root / "gunicorn.conf.py").exists():
                argv += ["--config", str(code.root / "gunicorn.conf.py")]
        # Pinned per host: a PROMETHEUS_MULTIPROC_DIR in this machine's environment would join the hosts' counts.
        metrics_dir = topology.base / folder / "var" / "metrics"
        env = {**(env or {}), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        return topology.start(name, argv, folder=folder, env=env)


SETUPS: dict[str, type[Setup]] = {s.name: s for s in (Defaults, PgRedis, MultiHost)}


# --- accounts before, check after: run in the code tree, on the setup's database ----------------------

HELPER = r"""
import json, sys
import django
django.setup()
from collections import Counter
from accounts.models import User
from accounts.services import apikey_create
from billing.models import CreditEntry
from billing.services import credits_balance, credits_grant
from tryon.models import Order

mode, arg = sys.argv[1], json.loads(sys.argv[2])
if mode == "prepare":
    out = []
    for i in range(arg["clients"]):
        user = User.objects.create_user(email=f"load-{arg['run']}-{i}@example.com", plan="paid")
        credits_grant(user, arg["credits"], reason="load test")
        out.append({"user": user.pk, "key": apikey_create(user=user, name="load")[1]})
else:
    orders = list(Order.objects.filter(user__in=arg["users"]))
    completed, refunded, problems = 0, 0, []
    for order in orders:
        kinds = Counter(CreditEntry.objects.filter(order=order).values_list("kind", flat=True))
        if order.status == "completed" and (kinds["spend"], kinds["refund"]) == (1, 0):
            completed += 1
        elif order.status == "failed" and kinds["refund"] == 1 and order.credits_used == 0:
            refunded += 1
        else:
            entries = f"{kinds['spend']}/{kinds['refund']}"
            problems.append(f"order {order.pk}: {order.status}, spend/refund entries {entries}")
    ledger_ok = True
    for user in User.objects.filter(pk__in=arg["users"]):
        ledger = sum(CreditEntry.objects.filter(user=user).values_list("amount", flat=True))
        charged = sum(o.credits_used for o in orders if o.user_id == user.pk)
        balance = credits_balance(user)
        if not (balance == ledger == arg["credits"] - charged):
            ledger_ok = False
            expected = arg["credits"] - charged
            problems.append(f"user {user.pk}: balance {balance}, ledger sum {ledger}, credits - charged {expected}")
    entries = CreditEntry.objects.filter(user__in=arg["users"])
    statuses = Counter(o.status for o in orders)
    database = {
        "orders created": len(orders),
        "orders completed": statuses["completed"],
        "orders failed": statuses["failed"],
        "credits spent": -sum(entries.filter(kind="spend").values_list("amount", flat=True)),
        "credits refunded": sum(entries.filter(kind="refund").values_list("amount", flat=True)),
    }
    out = {
        "database": database,
        "submitted": len(orders),
        "completed": completed,
        "refunded": refunded,
        "lost": len(orders) - completed - refunded,
        "ledger_ok": ledger_ok,
        "by_style": {f"{s}/{st}": n for (s, st), n in Counter((o.style, o.status) for o in orders).items()},
        "order_seconds": [o.processing_seconds for o in orders if o.status == "completed"],
        "problems": problems,
    }
with open(arg["out"], "w") as f:
    json.dump(out, f)
"""


def helper(code: Code, env: dict[str, str], mode: str, arg: dict, scratch: Path):
    arg = {**arg, "out": str(scratch / f"{mode}.json")}
    subprocess.run(
        [sys.executable, "-c", HELPER, mode, json.dumps(arg)],
        cwd=code.root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads((scratch / f"{mode}.json").read_text())


# --- the clients --------------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()

    def call(self, session: requests.Session, kind: str, method: str, url: str, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.errors[f"{kind} {type(exc).__name__}"] += 1
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[kind].append(elapsed)
            if response.status_code >= 400:
                self.errors[f"{kind} {response.status_code}"] += 1
        return response


def client_loop(base: str, key: str, bodies: list[dict], stats: Stats, stop_at: float, grace_until: float, poll: float):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    turn = 0
    while time.monotonic() < stop_at:
        body = bodies[turn % len(bodies)]
        turn += 1
        response = stats.call(session, "POST", "POST", f"{base}/api/v1/generate", json=body)
        if response is None or response.status_code != 202:
            time.sleep(poll)
            continue
        order_id = response.json()["order_id"]
        while time.monotonic() < grace_until:
            time.sleep(poll)
            got = stats.call(session, "poll", "GET", f"{base}/api/v1/orders/{order_id}")
            if got is not None and got.status_code == 200 and got.json()["order"]["status"] in ("completed", "failed"):
                break
        if turn % 5 == 0:
            stats.call(session, "account", "GET", f"{base}/api/v1/account")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000


# --- one run of one setup -----------------------------------------------------------------------------


@dataclass
class Result:
    setup: str
    code: str
    round: int
    wall: float = 0.0
    figures: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


def run_once(setup: Setup, code: Code, scratch: Path, opts: Options, args, bodies, round_: int) -> Result:
    result = Result(setup.name, code.label, round_)
    scratch.mkdir(parents=True)
    print(f"round {round_}: {setup.name} on {code.label} (scratch {scratch})", flush=True)
    running = setup.start(code, scratch, opts)
    try:
        try:
            prepare = {"clients": opts.clients, "run": opts.run, "credits": CREDITS}
            accounts = helper(code, running.env, "prepare", prepare, scratch)
            stats = Stats()
            started = time.monotonic()
            stop_at, grace_until = started + args.duration, started + args.duration + args.grace
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(running.base_url, a["key"], bodies, stats, stop_at, grace_until, args.poll),
                )
                for a in accounts
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            result.wall = time.monotonic() - started
            # Before the processes stop: their counts live as long as they do (a gunicorn worker's with it).
            sources = scrape_metrics(running, result)
        finally:
            result.problems += running.stop()
        check = {"users": [a["user"] for a in accounts], "credits": CREDITS}
        report = helper(code, running.env, "report", check, scratch)
    finally:
        running.cleanup()
    result.problems += report.pop("problems")
    result.errors = dict(stats.errors)
    result.figures = {
        "orders/min completed": report["completed"] / (result.wall / 60),
        "POST p50 ms": percentile(stats.latency["POST"], 50),
        "POST p99 ms": percentile(stats.latency["POST"], 99),
        "poll p50 ms": percentile(stats.latency["poll"], 50),
        "poll p99 ms": percentile(stats.latency["poll"], 99),
        "order s (median)": statistics.median(report["order_seconds"]) if report["order_seconds"] else None,
        **{k: report[k] for k in ("submitted", "completed", "refunded", "lost", "ledger_ok", "by_style")},
    }
    f = result.figures
    print(
        f"  {f['orders/min completed']:.1f} orders/min; {f['completed']} completed, {f['refunded']} refunded, "
        f"{f['lost']} lost; errors {result.errors or 'none'}; problems {len(result.problems)}",
        flush=True,
    )
    compare_metrics(result, sources, report["database"])
    return result


# --- the service's own counters against the database --------------------------------------------------

# What the table calls each counter of core.metrics; the database check reports the same names.
METRIC_COUNTERS = {
    "orders created": "ftmv_orders_created",
    "orders completed": "ftmv_orders_completed",
    "orders failed": "ftmv_orders_failed",
    "credits spent": "ftmv_credits_spent",
    "credits refunded": "ftmv_credits_refunded",
}


def scrape_metrics(running: Running, result: Result) -> dict[str, str] | None:
    try:
        return running.metrics()
    except Exception as exc:  # noqa: BLE001 - a failed scrape is a finding; the run's other figures stand
        result.problems.append(f"metrics: the scrape failed: {type(exc).__name__}: {exc}")
        return None


def counter_totals(text: str) -> dict[str, float]:
    """The order and credit counters of one Prometheus text, every label (style, error code) added up; a
    counter never incremented is absent from the text: 0."""
    from prometheus_client.parser import text_string_to_metric_families

    label_of = {name: label for label, name in METRIC_COUNTERS.items()}
    totals = dict.fromkeys(METRIC_COUNTERS, 0.0)
    for family in text_string_to_metric_families(text):
        if family.name in label_of:
            total = sum(s.value for s in family.samples if s.name == f"{family.name}_total")
            totals[label_of[family.name]] += total
    return totals


def compare_metrics(result: Result, sources: dict[str, str] | None, database: dict[str, int]) -> None:
    """The counters of every source added up (as Prometheus adds up the hosts it scrapes) against the
    database's figures; any difference is a problem. The metrics were read before the processes stopped and
    the database after: an order still running then is lost anyway, and reported as such."""
    result.figures["database"] = database
    if sources is None:
        print("  metrics: this code serves no /metrics", flush=True)
        return
    by_source = {name: counter_totals(text) for name, text in sources.items()}
    totals = {label: sum(t[label] for t in by_source.values()) for label in METRIC_COUNTERS}
    result.figures["metrics"] = totals
    result.figures["metrics by source"] = by_source
    print(f"  metrics ({' + '.join(sources)}) against the database:", flush=True)
    for label, value in totals.items():
        mark = "" if value == database[label] else "   <- MISMATCH"
        print(f"    {label:17} {value:8g}  database {database[label]:6d}{mark}", flush=True)
        if value != database[label]:
            result.problems.append(f"metrics: {label} {value:g}, database {database[label]}")
    if len(sources) > 1:
        for name, counts in by_source.items():
            print(f"    {name}: " + ", ".join(f"{k} {v:g}" for k, v in counts.items()), flush=True)


# --- the table ----------------------------------------------------------------------------------------

MEDIANS = ["orders/min completed", "POST p50 ms", "POST p99 ms", "poll p50 ms", "poll p99 ms", "order s (median)"]
TOTALS = ["submitted", "completed", "refunded", "lost"]


def table(results: list[Result], columns: list[tuple[str, str]], rounds: int) -> str:
    rows: list[tuple[str, list[str]]] = []
    by = {c: [r for r in results if (r.setup, r.code) == c] for c in columns}
    for name in MEDIANS:
        cells = []
        for c in columns:
            values = [r.figures[name] for r in by[c] if r.figures.get(name) is not None]
            cells.append(f"{statistics.median(values):.1f}" if values else "-")
        rows.append((f"{name}{' (median)' if rounds > 1 and 'median' not in name else ''}", cells))
    for name in TOTALS:
        rows.append(
            (
                name + (f" ({rounds} rounds)" if rounds > 1 else ""),
                [str(sum(r.figures.get(name, 0) for r in by[c])) for c in columns],
            )
        )
    for label in METRIC_COUNTERS:
        rows.append(
            (
                f"{label}: database",
                [str(sum(r.figures.get("database", {}).get(label, 0) for r in by[c])) for c in columns],
            )
        )
        cells = []
        for c in columns:
            served = [r.figures["metrics"][label] for r in by[c] if "metrics" in r.figures]
            cells.append(f"{sum(served):g}" if served and len(served) == len(by[c]) else "-")
        rows.append((f"{label}: metrics", cells))
    matches = []
    for c in columns:
        if not any("metrics" in r.figures for r in by[c]):
            matches.append("-")
        else:
            same = all(r.figures.get("metrics") == r.figures.get("database") for r in by[c])
            matches.append("yes" if same else "NO")
    rows.append(("metrics = database", matches))
    kinds = sorted({k for r in results for k in r.errors})
    rows.append(("HTTP errors", ["none" if not any(r.errors for r in by[c]) else "" for c in columns]))
    for kind in kinds:
        rows.append((f"  {kind}", [str(sum(r.errors.get(kind, 0) for r in by[c])) for c in columns]))
    rows.append(
        ("ledger balanced", ["yes" if all(r.figures.get("ledger_ok") for r in by[c]) else "NO" for c in columns])
    )
    rows.append(("processes and orders OK", ["yes" if not any(r.problems for r in by[c]) else "NO" for c in columns]))
    head = [c[0] for c in columns]
    sub = [c[1] for c in columns]
    width = max(12, *(len(x) for x in head + sub), *(len(x) for _, cells in rows for x in cells))
    label = max(len(name) for name, _ in rows)
    lines = [" " * label + "  " + "  ".join(x.rjust(width) for x in head)]
    lines.append(" " * label + "  " + "  ".join(x.rjust(width) for x in sub))
    lines += [name.ljust(label) + "  " + "  ".join(x.rjust(width) for x in cells) for name, cells in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default="defaults,pg-redis", help=f"comma-separated, of: {', '.join(SETUPS)}")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each setup, interleaved (A B A B ...)")
    parser.add_argument("--baseline-rev", help="also run every setup from a git worktree of this revision")
    parser.add_argument("--candidate-rev", help="run this revision instead of the working tree")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=75, help="seconds during which clients submit orders")
    parser.add_argument("--poll", type=float, default=3.0, help="seconds between status polls")
    parser.add_argument("--grace", type=float, default=120, help="most seconds to wait for running orders after")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--workers", type=int, default=1, help="concurrency of each image worker (WORKER_CONCURRENCY)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="emptied before each run")
    parser.add_argument("--scratch", default="/tmp/ftmv-load", help="folder for the runs' scratch folders")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--json", help="write every run's figures here")
    args = parser.parse_args()
    names = [s.strip() for s in args.setups.split(",") if s.strip()]
    if not names or any(n not in SETUPS for n in names):
        parser.error(f"--setups: choose from {', '.join(SETUPS)}")
    if not (1 <= args.clients <= 64 and 5 <= args.duration <= 600 and 1 <= args.rounds <= 20):
        parser.error("keep the run bounded: 1-64 clients, 5-600 s, 1-20 rounds")

    run = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    scratch = Path(args.scratch) / run
    scratch.mkdir(parents=True)
    opts = Options(args.clients, args.web_workers, args.workers, args.pg_url, args.redis_url, args.keep, run)
    codes: list[Code] = []
    try:
        codes.append(code_at(args.candidate_rev, scratch) if args.candidate_rev else Code("working tree", ROOT))
        if args.baseline_rev:
            codes.append(code_at(args.baseline_rev, scratch))
        setups = [SETUPS[n]() for n in names]
        bodies = request_bodies()
        results: list[Result] = []
        for round_ in range(1, args.rounds + 1):
            for setup in setups:
                for n, code in enumerate(codes):
                    where = scratch / f"{setup.name}-{'ab'[n]}-r{round_}"
                    try:
                        results.append(run_once(setup, code, where, opts, args, bodies, round_))
                    except Exception as exc:  # noqa: BLE001 - one failed run must not lose the others
                        print(f"  run failed: {type(exc).__name__}: {exc}", flush=True)
                        results.append(Result(setup.name, code.label, round_, problems=[f"run failed: {exc}"]))
    finally:
        for code in codes:
            code.remove()

    columns = [(s.name, c.label) for s in setups for c in codes]
    print()
    print(
        f"load: {args.clients} clients, {args.duration:.0f} s submitting (+ up to {args.grace:.0f} s to finish), "
        f"{args.web_workers} gunicorn workers, image worker concurrency {args.workers}, {args.rounds} round(s); "
        f"scratch {scratch}"
    )
    for s in setups:
        print(f"  {s.name}: {s.describe}")
        sources = {name for r in results if r.setup == s.name for name in r.figures.get("metrics by source", {})}
        if len(sources) > 1:
            print(f"    metrics: {' + '.join(sorted(sources))}")
    print(table(results, columns, args.rounds))
    problems = [f"{r.setup} on {r.code}, round {r.round}: {p}" for r in results for p in r.problems]
    for problem in problems[:30]:
        print("  " + problem)
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=1, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
