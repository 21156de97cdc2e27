"""Load run: simulated API clients against gunicorn + real Celery workers on PostgreSQL and Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ftmv_load REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/load.py --clients 8 --duration 75

Creates the database if needed and migrates it, starts gunicorn and the workers (production settings:
DEBUG off), gives each client its own paid account with credits and an API key, and runs the clients
on loopback for --duration seconds: each submits an order (alternating try-on of scikit-image's
astronaut with a drawn T-shirt, and a 6-image catalog of a drawn mug), polls it every --poll seconds
until it finishes, then submits the next. Afterwards it waits (bounded) for the orders still running,
then prints orders/min completed, API latency percentiles, error counts, and checks that every order
is completed or failed-and-refunded and that every account's ledger balances.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import requests
from PIL import Image
from skimage import data as skdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.order_ids: list[int] = []
        self.finished: Counter = Counter()
        self.first_submit = self.last_finish = None

    def call(self, session: requests.Session, kind: str, method: str, url: str, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[kind].append(elapsed)
            self.statuses[(kind, response.status_code)] += 1
            if response.status_code >= 400:
                code = response.json().get("error", {}).get("code", "?") if response.content else "?"
                self.errors[f"{kind}: {response.status_code} {code}"] += 1
        return response


def client_loop(base: str, key: str, bodies: list[dict], stats: Stats, stop_at: float, grace_until: float, poll: float):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    turn = 0
    while time.monotonic() < stop_at:
        body = bodies[turn % len(bodies)]
        turn += 1
        response = stats.call(session, "POST /generate", "POST", f"{base}/api/v1/generate", json=body)
        if response is None or response.status_code != 202:
            time.sleep(poll)
            continue
        order_id = response.json()["order_id"]
        with stats.lock:
            stats.order_ids.append(order_id)
            stats.first_submit = stats.first_submit or time.monotonic()
        while time.monotonic() < grace_until:
            time.sleep(poll)
            got = stats.call(session, "GET /orders/{id}", "GET", f"{base}/api/v1/orders/{order_id}")
            if got is not None and got.status_code == 200 and got.json()["order"]["status"] in ("completed", "failed"):
                with stats.lock:
                    stats.finished[got.json()["order"]["status"]] += 1
                    stats.last_finish = time.monotonic()
                break
        if turn % 5 == 0:
            stats.call(session, "GET /account", "GET", f"{base}/api/v1/account")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=75, help="seconds during which clients submit orders")
    parser.add_argument("--poll", type=float, default=3.0, help="seconds between status polls")
    parser.add_argument("--grace", type=float, default=120, help="most seconds to wait for running orders after")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (concurrency 1 each)")
    args = parser.parse_args()
    if not (1 <= args.clients <= 64 and 5 <= args.duration <= 600):
        parser.error("keep the run bounded: 1-64 clients, 5-600 s")
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url.startswith("redis"):
        parser.error("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the module docstring)")

    var = Path(os.environ.get("FTMV_VAR_DIR", "/tmp/ftmv-load"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ftmv.settings",
        "FTMV_VAR_DIR": str(var),
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CACHE_KEY_PREFIX": f"load{secrets.token_hex(3)}",
        "ONNX_PROVIDERS": os.environ.get("ONNX_PROVIDERS", "CPUExecutionProvider"),
        "API_AUTH_FAILURE_LIMIT": "1000",
    }
    os.environ.update(env)
    ensure_database(database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from accounts.models import User
    from accounts.services import apikey_create
    from billing.models import CreditEntry
    from billing.services import credits_balance, credits_grant
    from tryon.models import Order

    run = secrets.token_hex(4)
    users, keys = [], []
    for i in range(args.clients):
        user = User.objects.create_user(email=f"load-{run}-{i}@example.com", plan="paid")
        credits_grant(user, 2000, reason="load test")
        keys.append(apikey_create(user=user, name="load")[1])
        users.append(user)

    port = free_port()
    logs = var / f"load-{run}"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "ftmv.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web_workers),
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=(logs / "web.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ]
    for n in range(args.workers):
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "ftmv",
                    "worker",
                    "-Q",
                    "images,default,webhooks",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"load{n}-{run}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=(logs / f"worker{n}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"the server did not become healthy; see {logs}")

        bodies = request_bodies()
        stats = Stats()
        started = time.monotonic()
        stop_at, grace_until = started + args.duration, started + args.duration + args.grace
        threads = [
            threading.Thread(target=client_loop, args=(base, key, bodies, stats, stop_at, grace_until, args.poll))
            for key in keys
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    # --- report ---
    orders = list(Order.objects.filter(user__in=users))
    by_status = Counter(o.status for o in orders)
    completed = by_status["completed"]
    minutes = wall / 60
    print(
        f"load run: {args.clients} clients, {args.duration:.0f} s submitting (+ up to {args.grace:.0f} s to finish), "
        f"{args.web_workers} gunicorn workers, {args.workers} Celery worker(s); wall {wall:.0f} s"
    )
    print(f"orders: submitted {len(orders)}, {dict(by_status)}")
    print(f"throughput: {completed / minutes:.1f} orders/min completed over the wall time")
    by_style = Counter((o.style, o.status) for o in orders)
    print("by style: " + ", ".join(f"{s}/{st}={n}" for (s, st), n in sorted(by_style.items())))
    times = [o.processing_seconds for o in orders if o.status == "completed"]
    if times:
        print(f"order time (accept to completed): median {statistics.median(times):.0f} s, max {max(times)} s")
    for kind, values in sorted(stats.latency.items()):
        print(f"API {kind}: n={len(values)} p50={percentile(values, 50):.1f} ms p99={percentile(values, 99):.1f} ms")
    every = [v for values in stats.latency.values() for v in values]
    if every:
        print(f"API all: n={len(every)} p50={percentile(every, 50):.1f} ms p99={percentile(every, 99):.1f} ms")
    print(f"HTTP errors: {dict(stats.errors) or 'none'}")

    problems = []
    for order in orders:
        if order.status == "completed":
            spent = CreditEntry.objects.filter(order=order, kind="spend").count()
            refunded = CreditEntry.objects.filter(order=order, kind="refund").count()
            if (spent, refunded) != (1, 0):
                problems.append(f"order {order.pk} completed with spend/refund entries {spent}/{refunded}")
        elif order.status == "failed":
            refunded = CreditEntry.objects.filter(order=order, kind="refund").count()
            if refunded != 1 or order.credits_used != 0:
                problems.append(f"order {order.pk} failed but refunds={refunded}, credits_used={order.credits_used}")
        else:
            problems.append(f"order {order.pk} still {order.status} after the grace period")
    for user in users:
        ledger = sum(CreditEntry.objects.filter(user=user).values_list("amount", flat=True))
        charged = sum(o.credits_used for o in orders if o.user_id == user.pk)
        balance = credits_balance(user)
        if not (balance == ledger == 2000 - charged):
            problems.append(f"user {user.pk}: balance {balance}, ledger sum {ledger}, 2000 - charged {2000 - charged}")
    print(
        "consistency: every order completed or failed-and-refunded, every ledger balances: "
        + ("OK" if not problems else "FAILED")
    )
    for problem in problems[:20]:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
