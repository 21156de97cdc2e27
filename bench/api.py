"""API benchmark: gunicorn with the real settings (DEBUG off), load from this separate process on loopback.

Prints requests/s and p50/p99 latency for GET /orders/{id} and GET /account, the same for a bare Django
view returning constant JSON under the same server (the floor), their ratio, and the p50 server time
(gunicorn's own %(D)s) of POST /generate with two ~1 MB JPEGs.

    .venv/bin/python bench/api.py [--seconds 8] [--requests 3000] [--threads 4] [--workers 2] [--rounds 4]
                                  [--gunicorn-threads 1] [--posts 15]

The three GET endpoints take turns in --rounds short rounds (a change in the machine's load falls on all
of them alike); the load average is printed with the figures.

Uses a fresh SQLite database, broker and cache in a temporary folder unless DATABASE_URL / REDIS_URL are
set (then it uses those: point DATABASE_URL at a scratch database). Targets: polling >= 50 % of the
floor's throughput; POST /generate p50 < 150 ms.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DEV_PERSON = Path("/work/shared/dev-images/person")
DEV_GARMENT = Path("/work/shared/dev-images/garment")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        # The real settings plus the floor view, which only this benchmark mounts.
        "DJANGO_SETTINGS_MODULE": "bench.floor_settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "API_POLL_LIMIT_PER_MINUTE": "100000000",  # the limiter still runs (and costs); it just never trips
        "FTMV_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def one_mb_jpeg(source: Path | None, seed: int) -> bytes:
    """A ~1 MB JPEG: a development photo scaled up (or a drawn one when the photos are absent)."""
    import numpy as np
    from PIL import Image

    if source is not None and source.exists():
        image = Image.open(source).convert("RGB")
    else:
        rng = np.random.default_rng(seed)
        image = Image.fromarray(rng.integers(0, 255, (1024, 768, 3), dtype=np.uint8))
    scale = 1.0
    while True:
        size = (int(image.width * scale), int(image.height * scale))
        buffer = io.BytesIO()
        image.resize(size).save(buffer, "JPEG", quality=95)
        if buffer.tell() >= 900_000 or scale > 4:
            return buffer.getvalue()
        scale *= 1.25


def setup_data(env: dict[str, str]) -> tuple[str, int]:
    """Migrate, then a paid user with credits, a key and one completed order (in a child process)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    script = """
import io
import uuid
from PIL import Image
from accounts.models import User
from accounts.services import apikey_create
from billing.services import credits_grant
from tryon.models import Order
from tryon.lifecycle import order_complete, order_start
from tryon.validation import validate_image
# A new user each run: its hourly/daily counters start at zero even on a reused Redis database.
user = User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:12]}@example.com", plan="paid")
credits_grant(user, 10000, reason="bench")
_, raw = apikey_create(user=user, name="bench")
buf = io.BytesIO(); Image.new("RGB", (512, 512), (200, 100, 50)).save(buf, "JPEG")
from tryon.services import order_create
image = validate_image(buf.getvalue(), "x")
from unittest import mock
with mock.patch("tryon.services._enqueue"):
    order, _ = order_create(user=user, style="virtual_tryon", images={"person": image, "clothing": image},
                            options={"quality": "high", "format": "jpg"})
order_start(order.pk)
order_complete(order.pk, results=[("result", "result", buf.getvalue(), 512, 512)])
print(raw, order.pk)
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return out[-2], int(out[-1])


def finish_pending(env: dict[str, str]) -> None:
    script = "from tryon.models import Order; Order.objects.filter(status='pending').update(status='completed')"
    subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", script], cwd=ROOT, env=env, check=True)


def load(url: str, headers: dict, seconds: float, max_requests: int, threads: int) -> dict:
    """Hit ``url`` from ``threads`` client threads for ``seconds`` (or ``max_requests``): raw figures."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            with lock:
                if len(latencies) + errors[0] >= max_requests:
                    return
            start = time.perf_counter()
            response = session.get(url, headers=headers, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                if response.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"latencies": latencies, "errors": errors[0], "wall": time.monotonic() - started}


def summary(parts: list[dict]) -> dict:
    latencies = sorted(x for part in parts for x in part["latencies"])
    return {
        "n": len(latencies),
        "errors": sum(part["errors"] for part in parts),
        "rps": len(latencies) / sum(part["wall"] for part in parts),
        "p50": 1000 * latencies[len(latencies) // 2],
        "p99": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per endpoint")
    parser.add_argument("--requests", type=int, default=3000, help="at most, per endpoint")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--gunicorn-threads", type=int, default=1, help="threads per worker (> 1: gthread workers)")
    parser.add_argument("--posts", type=int, default=15, help="POST /generate samples")
    parser.add_argument("--rounds", type=int, default=4, help="turns per endpoint (the time is split between them)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ftmv-bench-") as tmp:
        var_dir = Path(tmp)
        env = server_env(var_dir)
        key, order_id = setup_data(env)
        port = free_port()
        access_log = var_dir / "access.log"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ftmv.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--access-logfile",
                str(access_log),
                "--access-logformat",
                "%(r)s|%(s)s|%(D)s",
                *(["--threads", str(args.gunicorn_threads)] if args.gunicorn_threads > 1 else []),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if requests.get(f"{base}/api/v1/_floor", timeout=10).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.1)
            else:
                raise SystemExit("gunicorn did not start: " + server.stderr.read().decode()[-2000:])
            auth = {"Authorization": f"Bearer {key}"}
            db = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
            cache = "Redis" if os.environ.get("REDIS_URL") else "database cache"
            kind = "sync" if args.gunicorn_threads == 1 else f"gthread x{args.gunicorn_threads}"
            print(
                f"gunicorn {args.workers} {kind} workers, DEBUG off, {db}, {cache}; "
                f"{args.threads} client threads, <= {args.requests} requests or {args.seconds:.0f} s per endpoint"
            )
            for url in (f"{base}/api/v1/_floor", f"{base}/api/v1/orders/{order_id}", f"{base}/api/v1/account"):
                requests.get(url, headers=auth, timeout=10).raise_for_status()  # warm up each worker path
            # The endpoints take turns in short rounds, so a change in the machine's load (other processes)
            # falls on all three alike instead of on whichever endpoint ran at that moment.
            endpoints = {
                "floor (bare Django view)": f"{base}/api/v1/_floor",
                "GET /orders/{id}": f"{base}/api/v1/orders/{order_id}",
                "GET /account": f"{base}/api/v1/account",
            }
            parts: dict[str, list[dict]] = {name: [] for name in endpoints}
            load_before = os.getloadavg()
            for _ in range(args.rounds):
                for name, url in endpoints.items():
                    parts[name].append(
                        load(url, auth, args.seconds / args.rounds, args.requests // args.rounds, args.threads)
                    )
            results = {}
            for name in endpoints:
                r = results[name] = summary(parts[name])
                print(
                    f"{name:26s} {r['rps']:8.1f} req/s   p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms"
                    f"   (n={r['n']}, errors={r['errors']})"
                )
            loads = " ".join(f"{x:.2f}" for x in load_before), " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"machine load average (1/5/15 min): {loads[0]} before, {loads[1]} after (2 cores)")
            floor = results["floor (bare Django view)"]["rps"]
            for name in ("GET /orders/{id}", "GET /account"):
                ratio = results[name]["rps"] / floor
                print(f"{name:26s} {100 * ratio:5.1f} % of floor throughput (target >= 50 %)")

            person = one_mb_jpeg(next(iter(sorted(DEV_PERSON.glob("*.jpg"))), None), 1)
            garment = one_mb_jpeg(next(iter(sorted(DEV_GARMENT.glob("*.jpg"))), None), 2)
            body = {
                "person_image": base64.b64encode(person).decode(),
                "clothing_image": base64.b64encode(garment).decode(),
                "options": {"format": "jpg"},
            }
            client_ms = []
            for _ in range(args.posts):
                start = time.perf_counter()
                response = requests.post(f"{base}/api/v1/generate", json=body, headers=auth, timeout=60)
                client_ms.append(1000 * (time.perf_counter() - start))
                if response.status_code != 202:
                    raise SystemExit(f"POST /generate: {response.status_code} {response.text[:300]}")
                finish_pending(env)  # keeps the bench account under its in-flight limit (no worker here)
            time.sleep(0.5)
            server_ms = [
                int(line.split("|")[2]) / 1000
                for line in access_log.read_text().splitlines()
                if line.startswith("POST /api/v1/generate")
            ]
            print(
                f"POST /generate (2 JPEGs {len(person) / 1e6:.2f} + {len(garment) / 1e6:.2f} MB): "
                f"server p50 {statistics.median(server_ms):.1f} ms (target < 150), "
                f"client p50 {statistics.median(client_ms):.1f} ms, n={len(server_ms)}"
            )
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
