"""`make run` installs only what runs (requirements.txt); `make test` / `make check` / CI's
`make install` add the development requirements; nothing the service runs imports a development-only
package."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def planned(target: str, tmp_path: Path) -> str:
    # -n: print, run nothing; -B: as on a fresh clone (every stamp out of date); a scratch venv path.
    run = subprocess.run(
        ["make", "-n", "-B", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_make_run_installs_only_the_runtime(tmp_path):
    plan = planned("run", tmp_path)
    assert "-r requirements.txt" in plan and "requirements-dev.txt" not in plan
    for target in ("test", "check", "install"):
        assert "-r requirements-dev.txt" in planned(target, tmp_path), target


DEV_ONLY = {
    "pytest": "pytest",
    "ruff": "ruff",
    "scikit-image": "skimage",
    "playwright": "playwright",
    "schemathesis": "schemathesis",
    "mypy": "mypy",
    "httpx": "httpx",
    "django-stubs-ext": "django_stubs_ext",
}


def test_the_service_imports_no_development_package():
    dev = (ROOT / "requirements-dev.txt").read_text()
    listed = {line.split("==")[0] for line in dev.splitlines() if "==" in line}
    modules = {DEV_ONLY[name] for name in listed if name in DEV_ONLY}
    assert modules, "requirements-dev.txt lists none of the known development packages"
    runtime = ["ftmv", "accounts", "api", "billing", "core", "tryon", "web", "imaging", "catalog"]
    pattern = re.compile(r"^\s*(?:import|from)\s+(" + "|".join(sorted(modules)) + r")\b", re.M)
    found = [
        f"{path.relative_to(ROOT)}: {match}"
        for folder in runtime
        for path in (ROOT / folder).rglob("*.py")
        for match in pattern.findall(path.read_text())
    ]
    assert found == []
