"""Sweeps end to end: a grid, a resumable Bayesian search, trials in parallel through the submitit launcher, and
their summary. The sweeps run in this process (the submitit launcher's jobs in processes of their own)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import optuna
import pytest
import pytorch_lightning as pl
import yaml
from matplotlib.collections import LineCollection

from senn.cli.sweep_summary import main as sweep_summary
from senn.runs.sweep import (
    _pareto_figure,
    _row,
    _scale,
    _tradeoff_figure,
    collect_runs,
    mean_std,
    pareto_front,
    summary_table,
    write_summary,
)
from tests.conftest import REPO, SMALL, run_command

FAST = [*SMALL, "trainer.max_epochs=2", "logger=none"]


def multirun(directory: Path, capsys: pytest.CaptureFixture, *overrides: str, wandb_mode: str = "disabled") -> None:
    """``senn-train -m`` with the small synthetic model, its sweep in ``directory`` and studies beside it."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WANDB_MODE", wandb_mode)
        env.setenv("SENN_OPTUNA_DIR", str(directory.parent))
        directory.parent.mkdir(parents=True, exist_ok=True)
        result = run_command(["senn-train", "-m", *FAST, f"hydra.sweep.dir={directory}", *overrides],
                             directory.parent, capsys)  # fmt: skip
    assert result.code == 0, result.err[-3000:]
    if wandb_mode != "disabled":  # as at the end of a senn-train process: wandb has written everything
        import wandb

        wandb.teardown()


def test_grid_sweep_and_its_summary(tmp_path, capsys):
    sweep = tmp_path / "grid"
    multirun(sweep, capsys, "model.robustness_weight=1e-3,1e-1")
    sweep_summary([str(sweep), "--evaluate-examples", "10"])
    table = (sweep / "summary" / "summary.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| 0.")]
    assert len(rows) == 2 and "median input-mode local Lipschitz" in table
    runs = json.loads((sweep / "summary" / "runs.json").read_text())
    assert {r["model.robustness_weight"] for r in runs} == {1e-3, 1e-1}
    assert all(r["stability"] > 0 and -1 <= r["faithfulness"] <= 1 for r in runs)
    assert (sweep / "summary" / "tradeoff.png").exists() and (sweep / "summary" / "pareto.png").exists()
    assert "summary.md" in capsys.readouterr().out
    # other evaluation settings go to another sub-folder, leaving the first results as they were
    sweep_summary([str(sweep), "--evaluate-examples", "10", "--evaluation", "scale_free", "--evaluate-overrides",
                   "stability.normalize=max", "--out", str(tmp_path / "scale_free")])  # fmt: skip
    scale_free = json.loads((tmp_path / "scale_free" / "runs.json").read_text())
    assert all((Path(r["run"]) / "scale_free" / "metrics.json").exists() for r in scale_free)
    assert {r["stability"] for r in scale_free}.isdisjoint(r["stability"] for r in runs)
    assert sorted(r["stability"] for r in collect_runs([sweep])) == sorted(r["stability"] for r in runs)


def test_summary_from_offline_wandb_runs_alone(tmp_path, capsys):
    """Only the wandb folders came back (say, from a cluster): the summary reads the runs from them."""
    sweep = tmp_path / "grid"
    multirun(sweep, capsys, "model.robustness_weight=1e-3,1e-1", "seed=0,1", "logger=wandb", wandb_mode="offline")
    copied = tmp_path / "copied"
    for run in sweep.glob("*/wandb"):
        shutil.copytree(run, copied / run.parent.name / "wandb")
    sweep_summary([str(copied)])
    runs = json.loads((copied / "summary" / "runs.json").read_text())
    expected = {json.loads((sweep / r / "metrics.json").read_text())["test/acc"] for r in "0123"}
    assert {r["test/acc"] for r in runs} == expected and len(runs) == 4
    assert all(r["best_checkpoint"] for r in runs)  # read from the plain JSON senn-train put in the wandb folder
    (unfinished,) = list(copied.glob("0/wandb/offline-run-*/files"))  # a run that never wrote its record
    (unfinished / "metrics.json").unlink()
    with pytest.warns(UserWarning, match=f"skipped {unfinished.parent}: no files/metrics.json"):
        sweep_summary([str(copied), "--out", str(tmp_path / "three")])
    assert len(json.loads((tmp_path / "three" / "runs.json").read_text())) == 3
    assert sorted((r["model.robustness_weight"], r["seed"]) for r in runs) == [(1e-3, 0), (1e-3, 1), (0.1, 0), (0.1, 1)]
    table = (copied / "summary" / "summary.md").read_text()
    assert len([line for line in table.splitlines() if line.startswith("| 0.")]) == 2  # mean ± std over 2 seeds
    sweep_summary([str(sweep), "--out", str(tmp_path / "both")])  # output folders + their wandb runs: no duplicates
    assert len(json.loads((tmp_path / "both" / "runs.json").read_text())) == 4


SEARCH = ["hparams_search=stability_tradeoff", "hydra.sweeper.population_size=2"]


def load_study(path: Path, name: str = "senn_train_tradeoff") -> optuna.Study:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.load_study(study_name=name, storage=storage)


def test_bayesian_search_resumes_its_study(tmp_path, capsys):
    """Two invocations (the second as after an interruption) add up to one study of 3 trials with two
    objectives; its Pareto front is written and the summary reads every trial back."""
    multirun(tmp_path / "first", capsys, *SEARCH, "hydra.sweeper.n_trials=2")
    multirun(tmp_path / "second", capsys, *SEARCH, "hydra.sweeper.n_trials=1")  # a new invocation: study reloaded
    study = load_study(tmp_path / "optuna_train.journal")
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(finished) == 3 and all(len(t.values) == 2 for t in finished)  # (val/acc, val/robustness_loss)
    front = yaml.safe_load((tmp_path / "second" / "optimization_results.yaml").read_text())
    assert front["trials"] == 3 and {s["number"] for s in front["solutions"]} == {t.number for t in study.best_trials}
    sweep_summary([str(tmp_path / "first"), str(tmp_path / "second"), "--out", str(tmp_path / "summary")])
    runs = json.loads((tmp_path / "summary" / "runs.json").read_text())
    assert sorted(r["val/acc"] for r in runs) == sorted(t.values[0] for t in finished)


class Rendezvous(pl.Callback):
    """Each trial announces itself in ``folder`` when it starts training and waits for ``parties`` trials to
    have done so: trials run in parallel meet; trials run one after the other time out and fail."""

    def __init__(self, folder: str, parties: int = 2, timeout: float = 120.0) -> None:
        self.folder, self.parties, self.timeout = Path(folder), parties, timeout

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / str(os.getpid())).touch()
        deadline = time.monotonic() + self.timeout
        while len(list(self.folder.iterdir())) < self.parties:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no other trial started within {self.timeout} s of this one")
            time.sleep(0.05)


def test_local_launcher_runs_search_trials_in_parallel_processes(tmp_path, capsys, monkeypatch):
    """n_jobs=2 through the submitit launcher (hydra/launcher=local, the code path of hydra/launcher=slurm): each
    trial of the batch is a submitit job of its own, and the two run at the same time: each waits for the other
    to start training (failed trials: tests/optuna_sweeper/test_search.py)."""
    sweep, met = tmp_path / "parallel", tmp_path / "met"
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the jobs' processes import the rendezvous from here
    rendezvous = [f"+callbacks.rendezvous._target_={__name__}.Rendezvous", f"+callbacks.rendezvous.folder={met}"]
    multirun(sweep, capsys, *SEARCH, "hydra/launcher=local", "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=2",
             *rendezvous)  # fmt: skip
    study = load_study(tmp_path / "optuna_train.journal")
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2  # they met
    assert len(list(met.iterdir())) == 2  # two processes
    assert len(list((sweep / ".submitit").glob("*/*_log.out"))) == 2  # submitit's job logs (Hydra's launcher: none)
    assert sorted(p.parent.name for p in sweep.glob("*/metrics.json")) == ["0", "1"]


def test_summary_table_spreads_and_readable_axes(tmp_path):
    """Groups of one run have no spread (n/a, not ± 0); close values get linear axes, a decade a log one."""
    rows = [{"run": f"r{i}", "model.robustness_weight": lam, "seed": seed, "test/acc": acc,
             "val/robustness_loss": robustness}
            for i, (lam, seed, acc, robustness) in enumerate([(0.01, 0, 0.9, 0.04771), (0.01, 1, 0.8, 0.04773),
                                                              (0.1, 0, 0.95, 0.04775)])]  # fmt: skip
    paths = write_summary(rows, tmp_path)
    table = paths["summary"].read_text()
    assert "| 0.01 | 2 | 0.850 ± 0.071 |" in table and "| 0.1 | 1 | 0.95 ± n/a |" in table
    assert {"tradeoff", "pareto"} <= set(paths)
    fig, ax = plt.subplots()
    _scale(ax, "x", [0.04771, 0.04775])
    assert ax.get_xscale() == "linear"
    _scale(ax, "x", [1e-3, 0.5])
    assert ax.get_xscale() == "log"
    plt.close(fig)


def test_tradeoff_error_bars_stop_at_zero_and_accuracy_stays_in_front():
    """A stability spread larger than its mean would draw a negative Lipschitz estimate; the accuracy series,
    at the same λ, would hide behind the stability axis."""
    rows = [
        {"run": f"r{i}", "model.robustness_weight": lam, "seed": i, "test/acc": acc, "stability": stab}
        for i, (lam, acc, stab) in enumerate([(0.01, 0.6, 0.001), (0.01, 0.9, 0.09), (0.1, 0.7, 0.04)])
    ]
    fig = _tradeoff_figure(summary_table(rows), "stability")
    accuracy_axis, stability_axis = fig.axes
    assert accuracy_axis.get_zorder() > stability_axis.get_zorder()
    (bars,) = [c for c in stability_axis.collections if isinstance(c, LineCollection)]  # the error bars
    lows = [segment[:, 1].min() for segment in bars.get_segments()]
    assert lows[0] == 0 and lows[1] == pytest.approx(0.04)  # mean 0.0455 − std 0.0629 stops at 0; one run: none
    plt.close(fig)


def test_a_regression_sweep_is_summarized_by_its_mse(tmp_path):
    """Regression runs report test/mse, not test/acc: the table and figures use it, and the Pareto front keeps
    the lowest MSE, where it keeps the highest accuracy."""
    rows = [
        {"run": f"r{i}", "model.robustness_weight": lam, "test/mse": mse, "stability": stab}
        for i, (lam, mse, stab) in enumerate([(0.01, 2.0, 0.3), (0.1, 1.0, 0.2), (1.0, 3.0, 0.1)])
    ]
    paths = write_summary(rows, tmp_path)
    assert (
        "| 0.1 | 1 | 1 ± n/a |" in paths["summary"].read_text()
        and "test/mse (mean ± std)" in paths["summary"].read_text()
    )
    fig = _pareto_figure([(r["test/mse"], r["stability"], None) for r in rows], "stability", "test/mse")
    (front,) = [line for line in fig.axes[0].lines if line.get_label() == "Pareto front"]
    assert front.get_ydata().tolist() == [3.0, 1.0]  # (0.1, 3.0) and (0.2, 1.0); (0.3, 2.0) is dominated by both
    assert fig.axes[0].get_ylabel() == "test MSE (lower is better)"
    plt.close(fig)


def test_a_mean_and_its_spread_share_one_precision():
    assert mean_std(0.13, 0.01466) == "0.130 ± 0.015"  # the spread to two digits, the mean to the same place
    assert mean_std(0.9912, 0.0026) == "0.9912 ± 0.0026" and mean_std(12.5, 3.2) == "12.5 ± 3.2"
    assert mean_std(9.7e-6, 1.2e-6) == "(9.7 ± 1.2)e-6" and mean_std(0.5, 0.0) == "0.5 ± 0"
    assert mean_std(0.981, 0.000999999) == "0.9810 ± 0.0010"  # the precision of the spread as shown


def test_overrides_are_read_as_hydra_reads_them():
    row = _row(Path("r"), ["++data.note='a b=c'", "~callbacks.early_stopping", "model.parametrizer.channels=[16,32]",
                           "model.robustness_weight=1e-3", "+tag=null"], {"test/acc": 0.9})  # fmt: skip
    assert row == {"run": "r", "data.note": "a b=c", "model.parametrizer.channels": [16, 32],
                   "model.robustness_weight": 0.001, "tag": None, "test/acc": 0.9}  # fmt: skip


def test_pareto_front():
    points = [(0.9, 1.0), (0.8, 0.5), (0.85, 0.6), (0.7, 0.7), (0.9, 2.0)]
    assert pareto_front(points) == [0, 1, 2]


def test_summary_of_nothing_says_so(tmp_path):
    with pytest.raises(SystemExit):
        sweep_summary([str(tmp_path)])
