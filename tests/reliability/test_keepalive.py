"""`make run` survives one crashed process: honcho stops everything when one process
exits, so every Procfile process runs under tools/keepalive.py, which starts a crashed one again; Ctrl-C
still stops them all promptly. Real honcho, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_procfile_process_runs_under_keepalive():
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip():
            name, command = line.split(":", 1)
            assert "tools/keepalive.py -- " in command, f"{name} would stop the whole site when it crashes"


def test_a_crashed_process_is_restarted_and_the_others_keep_running(tmp_path):
    marker = tmp_path / "starts"
    crasher = (
        f"import pathlib,sys,time;p=pathlib.Path({str(marker)!r});n=len(p.read_text()) if p.exists() else 0;"
        "p.write_text('x'*(n+1));sys.exit(1) if n==0 else time.sleep(60)"
    )
    steady = "import time;print('steady up',flush=True);time.sleep(60)"
    keepalive = f"{sys.executable} {ROOT / 'tools' / 'keepalive.py'} --"
    (tmp_path / "Procfile").write_text(
        f'crasher: {keepalive} {sys.executable} -c "{crasher}"\nsteady: {keepalive} {sys.executable} -c "{steady}"\n'
    )
    log = (tmp_path / "honcho.log").open("wb")
    honcho = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "start"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (marker.exists() and len(marker.read_text()) >= 2):
            time.sleep(0.2)
        assert marker.exists() and len(marker.read_text()) == 2, (tmp_path / "honcho.log").read_text()
        time.sleep(1)
        assert honcho.poll() is None, "honcho stopped the site after one crash"
        # Ctrl-C: everything stops within honcho's kill wait.
        os.killpg(honcho.pid, signal.SIGINT)
        honcho.wait(timeout=15)
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
        log.close()
    text = (tmp_path / "honcho.log").read_text()
    assert "starting it again" in text and "steady up" in text
