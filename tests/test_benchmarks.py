"""The benchmark scripts the README and the results page cite still run on this version of senn (in this process,
at the smallest setting): their figures are only as good as the code they time."""

from __future__ import annotations

import json
import runpy
import sys

import pytest

from tests.conftest import REPO, shared_data_dir

BENCHMARKS = REPO / "experiments" / "benchmarks"


def run_script(name: str, argv: list[str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> list:
    """Run ``experiments/benchmarks/<name>`` as ``python <name> <argv>``; its JSON lines."""
    monkeypatch.setattr(sys, "argv", [name, *argv])
    capsys.readouterr()
    runpy.run_path(str(BENCHMARKS / name), run_name="__main__")
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_make_bench_times_the_presets_model(capsys, monkeypatch):
    """``make bench``: the mnist preset's SENN with its sizes filled as senn-train fills them, without the data."""
    records = run_script("robustness_throughput.py", ["--steps", "1", "--rounds", "1", "--variants", "none,projection"],
                         capsys, monkeypatch)  # fmt: skip
    assert [r["variant"] for r in records] == ["none", "projection"]
    assert all(r["samples_per_s"] > 0 for r in records) and records[0]["vs_none"] == 1.0


@pytest.mark.skipif(shared_data_dir() is None, reason="needs the real MNIST files (SENN_DATA_DIR)")
def test_evaluation_speed_times_the_senn(capsys, monkeypatch):
    """``evaluation_speed.py`` reads the typed :class:`~senn.evaluation.results.Evaluation` evaluate returns."""
    argv = ["--senn", "pretrained:mnist", "--senn-examples", "4", "--overrides", "data=mnist",
            f"data.data_dir={shared_data_dir()}", "stability.budget=2"]  # fmt: skip
    (record,) = run_script("evaluation_speed.py", argv, capsys, monkeypatch)
    assert record["method"] == "senn" and record["examples"] == 4 and record["budget"] == 2
    assert record["seconds"] > 0
