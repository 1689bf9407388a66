"""The Optuna search's pieces: search dimensions from Hydra's grammar, storage, and what counts as a result.
(The search end to end, resumed and in parallel: tests/runs/test_sweep.py.)"""

from __future__ import annotations

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus

from hydra_plugins.senn_optuna_sweeper.search import OptunaSearch, distribution, storage, trial_values


def parse(text: str):
    return OverridesParser.create().parse_override(text)


def test_search_dimensions_come_from_hydras_grammar():
    d = optuna.distributions
    assert distribution(parse("a=tag(log, interval(1e-4, 1.0))")) == d.FloatDistribution(1e-4, 1.0, log=True)
    assert distribution(parse("a=interval(1, 8)")) == d.FloatDistribution(1.0, 8.0)  # Hydra: interval bounds are floats
    assert distribution(parse("a=range(1, 5)")) == d.IntDistribution(1, 4)
    assert distribution(parse("a=choice(relu, sigmoid)")) == d.CategoricalDistribution(["relu", "sigmoid"])
    assert distribution(parse("a=0.5")) is None  # a fixed value, the same in every trial


def test_storage_is_a_journal_file_unless_a_database_is_named(tmp_path):
    assert storage(None) is None
    assert storage("sqlite:///study.db") == "sqlite:///study.db"
    journal = storage(str(tmp_path / "deep" / "study.journal"))
    assert isinstance(journal, optuna.storages.JournalStorage) and (tmp_path / "deep").is_dir()


def test_a_search_on_a_database_runs_and_resumes(tmp_path):
    """hydra.sweeper.storage=<RDB URL>: the study lives in the database, and a second invocation adds to it."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    settings = {"direction": ["maximize", "minimize"], "study_name": "db", "storage": url, "seed": 0,
                "population_size": 2, "params": {"a": "interval(0.0, 1.0)"}}  # fmt: skip
    for n_trials in (2, 1):
        search = OptunaSearch(**settings, n_trials=n_trials)
        search.launcher = FakeLauncher(lambda o: (1.0, float(o[0].split("=")[1])))
        search.sweep([])
    assert not list(tmp_path.glob("*.journal"))
    study = optuna.load_study(study_name="db", storage=url)  # read back from the database file alone
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3 and len({t.params["a"] for t in study.trials}) == 3


def test_a_run_counts_only_with_one_finite_value_per_objective():
    assert trial_values((0.9, 0.1), 2) == [0.9, 0.1] and trial_values(0.5, 1) == [0.5]
    with pytest.raises(ValueError, match="returned 1 values for 2 objectives"):
        trial_values(0.9, 2)
    with pytest.raises(ValueError, match="non-finite"):
        trial_values((float("nan"), 0.1), 2)


class FakeLauncher:
    """Records every batch; each job returns ``answer(overrides)`` or fails when that raises."""

    def __init__(self, answer) -> None:
        self.answer, self.batches = answer, []

    def launch(self, batch, initial_job_idx):
        self.batches.append(batch)
        returns = []
        for overrides in batch:
            job = JobReturn(overrides=list(overrides))
            try:
                job.return_value, job.status = self.answer(overrides), JobStatus.COMPLETED
            except Exception as err:
                job.return_value, job.status = err, JobStatus.FAILED
            returns.append(job)
        return returns


def test_batches_fixed_values_and_failures_without_training():
    """Batches of n_jobs; a value fixed on the command line leaves the search space; a failed job is
    recorded as failed and the search goes on."""

    def answer(overrides):
        weight = float(dict(o.split("=") for o in overrides)["model.sparsity_weight"])
        if weight > 5e-4:
            raise RuntimeError("diverged")
        return (1 - weight, weight)

    search = OptunaSearch(direction=["maximize", "minimize"], n_trials=5, n_jobs=2, seed=0, population_size=4,
                          params={"model.robustness_weight": "tag(log, interval(1e-4, 1.0))",
                                  "model.sparsity_weight": "interval(1e-6, 1e-3)"})  # fmt: skip
    search.launcher = FakeLauncher(answer)
    study = search.sweep(["model.robustness_weight=0.5", "trainer.max_epochs=2"])
    assert [len(b) for b in search.launcher.batches] == [2, 2, 1]
    jobs = [o for b in search.launcher.batches for o in b]
    assert all("model.robustness_weight=0.5" in o and "trainer.max_epochs=2" in o for o in jobs)
    states = [t.state.name for t in study.trials]
    failed = [t for t in study.trials if t.params["model.sparsity_weight"] > 5e-4]
    assert failed and states.count("FAIL") == len(failed) and states.count("COMPLETE") == 5 - len(failed)


def test_a_resumed_search_draws_new_points(tmp_path):
    """The same command twice, one study: the second invocation does not repeat the first one's points."""
    settings = {"direction": ["maximize", "minimize"], "study_name": "s", "storage": str(tmp_path / "s.journal"),
                "n_trials": 2, "seed": 0, "population_size": 2, "params": {"a": "interval(0.0, 1.0)"}}  # fmt: skip
    for n_trials in (2, 1):
        search = OptunaSearch(**{**settings, "n_trials": n_trials})
        search.launcher = FakeLauncher(lambda o: (1.0, float(o[0].split("=")[1])))
        study = search.sweep([])
    points = [t.params["a"] for t in study.trials]
    assert len(points) == 3 and len(set(points)) == 3
