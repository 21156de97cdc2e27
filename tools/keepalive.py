"""Run one Procfile command and start it again when it crashes, so that one crashed process does not stop
the whole local site (honcho stops every process as soon as one exits).

    python tools/keepalive.py -- COMMAND [ARGS...]

A crash (any exit not caused by our own stop) is logged and the command restarted after a back-off that
doubles from 1 s up to 30 s, and resets once the command has run for a minute. SIGTERM or SIGINT (honcho's
stop, Ctrl-C) is passed on to the command, which is waited for (honcho SIGKILLs after 5 s anyway); then
this wrapper exits with the command's status. Only for `make run`: production runs each process under a
real supervisor (systemd, Kubernetes...) that does this itself.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: keepalive.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        status = child.wait()
        if stopping:
            return status
        if time.monotonic() - started > HEALTHY_AFTER:
            backoff = 1.0
        print(
            f"keepalive: {argv[0]} exited with status {status}; starting it again in {backoff:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + backoff
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return status
        backoff = min(MAX_BACKOFF, backoff * 2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
