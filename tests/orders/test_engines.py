"""The order domain's use of the try-on engines: TRYON_ENGINE picks the engine an order runs on, a worker
that cannot run the configured engine refuses to start, and `manage.py tryon --engine` runs any engine."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from imaging.tryon import engines
from imaging.tryon.engines import EngineUnavailable, TryonResult
from tests.api.conftest import make_user
from tests.conftest import run_image_worker_once
from tryon.dispatch import check_engine_for_worker, run_order_pipeline
from tryon.models import Order


class FakeEngine:
    """An engine that paints the person photo one colour and records what it was asked."""

    name = "fake"
    stages = (("paint", "Painting"),)

    def __init__(self) -> None:
        self.requests: list = []

    def check(self) -> None:
        pass

    def describe(self) -> dict:
        return {"engine": self.name, "weights": "none"}

    def run(self, request, *, progress=None, debug_dir=None) -> TryonResult:
        self.requests.append(request)
        if progress:
            progress("paint", 50)
        image = np.full_like(request.person, 77)
        return TryonResult(image=image, timings={"paint": 0.01}, category="tops", info={"steps": 3})


class UnavailableEngine(FakeEngine):
    name = "broken"

    def check(self) -> None:
        raise EngineUnavailable("weights bundle missing at /nowhere")


@pytest.fixture
def fake(monkeypatch) -> FakeEngine:
    """FakeEngine registered as "fake" and UnavailableEngine as "broken", for this test only."""
    engine = FakeEngine()
    monkeypatch.setitem(engines._factories, "fake", FakeEngine)
    monkeypatch.setitem(engines._instances, "fake", engine)
    monkeypatch.setitem(engines._factories, "broken", UnavailableEngine)
    return engine


@pytest.mark.django_db
def test_an_order_runs_on_the_engine_tryon_engine_names(fake, settings):
    settings.TRYON_ENGINE = "fake"
    user, _ = make_user("engine@example.com")
    order = Order.objects.create(
        user=user, style=Order.Style.VIRTUAL_TRYON, options={"category": "bottoms", "quality": "standard"}
    )
    person = np.zeros((64, 48, 3), np.uint8)
    reported: list[tuple[str, int]] = []
    output = run_order_pipeline(
        order, {"person": person, "clothing": person}, lambda stage, percent: reported.append((stage, percent))
    )
    (request,) = fake.requests
    assert (request.category, request.quality) == ("bottoms", "standard")
    assert [name for name, _ in output.images] == ["result"] and (output.images[0][1] == 77).all()
    assert output.info == {"steps": 3, "category": "tops", "engine": "fake"}
    assert reported == [("paint", 50)]


def test_a_named_engine_that_cannot_run_stops_an_image_worker(fake, settings, caplog):
    settings.TRYON_ENGINE = "broken"
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit) as stopped:
        check_engine_for_worker({"images", "default"})
    assert stopped.value.code == 1
    assert "TRYON_ENGINE=broken cannot run here: weights bundle missing at /nowhere" in caplog.text
    settings.TRYON_ENGINE = "no-such-engine"
    with pytest.raises(SystemExit):
        check_engine_for_worker({"images"})
    assert "Unknown try-on engine 'no-such-engine'" in caplog.text


def test_the_housekeeping_worker_does_not_need_the_engine(fake, settings):
    settings.TRYON_ENGINE = "broken"
    check_engine_for_worker({"default"})  # runs webhooks and sweeps only: starts anyway


def test_auto_logs_the_engine_it_picked(settings, caplog):
    settings.TRYON_ENGINE = "auto"
    with caplog.at_level(logging.INFO, logger="tryon.dispatch"):
        check_engine_for_worker({"images"})
    assert "TRYON_ENGINE=auto picked the classical try-on engine" in caplog.text


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_refuses_to_start_with_an_engine_it_cannot_run(tmp_path):
    result = run_image_worker_once({"TRYON_ENGINE": "no-such-engine"})
    assert result.returncode != 0
    assert "TRYON_ENGINE=no-such-engine cannot run here: Unknown try-on engine 'no-such-engine'" in result.stderr


def write_photo(path, colour) -> None:
    Image.new("RGB", (48, 64), colour).save(path)


def test_manage_tryon_runs_the_engine_it_is_given(fake, tmp_path, capsys):
    write_photo(tmp_path / "p.png", (200, 10, 10))
    write_photo(tmp_path / "g.png", (10, 200, 10))
    out = tmp_path / "out.png"
    call_command("tryon", str(tmp_path / "p.png"), str(tmp_path / "g.png"), "-o", str(out), "--engine", "fake")
    assert np.asarray(Image.open(out)).max() == 77
    assert "(fake engine, tops, 48x64)" in capsys.readouterr().out
    assert fake.requests[0].category == "auto" and fake.requests[0].quality == "high"


def test_manage_tryon_says_why_an_engine_cannot_run(fake, tmp_path):
    write_photo(tmp_path / "p.png", (200, 10, 10))
    with pytest.raises(CommandError, match="weights bundle missing at /nowhere"):
        call_command(
            "tryon",
            str(tmp_path / "p.png"),
            str(tmp_path / "p.png"),
            "-o",
            str(tmp_path / "o.png"),
            "--engine",
            "broken",
        )
    with pytest.raises(CommandError, match="invalid choice: 'nope'"):
        call_command(
            "tryon", str(tmp_path / "p.png"), str(tmp_path / "p.png"), "-o", str(tmp_path / "o.png"), "--engine", "nope"
        )
