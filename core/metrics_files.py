"""The files prometheus_client's multiprocess mode keeps, one set per process, in PROMETHEUS_MULTIPROC_DIR.

Plain Python (no Django): gunicorn's master uses it before anything of Django is set up.
"""

from __future__ import annotations

import os
from pathlib import Path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


def remove_dead_process_files(folder: Path) -> list[Path]:
    """Remove the files of processes that are gone (an earlier run's), as prometheus_client requires between
    runs, so that a new process never takes over a dead one's file by reusing its pid. Files of live processes
    stay: the other processes of the host (Celery workers, gunicorn) write to the same folder and may have
    started first. Returns what was removed."""
    removed = []
    for path in Path(folder).glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]  # counter_<pid>.db, gauge_livesum_<pid>.db...
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
