"""Bayesian hyperparameter search on Optuna (≥ 4) behind Hydra's sweeper interface.

``senn-train -m hparams_search=stability_tradeoff`` runs it: Optuna samples (NSGA-II for several
objectives, TPE for one) and stores the study; Hydra's configured launcher runs each batch of
``n_jobs`` trials (in this process, in parallel local processes, or as SLURM jobs through submitit).
The study lives in Optuna's journal file by default, which is safe on a shared file system and
resumable: rerunning the same command loads the study and runs ``n_trials`` more. A trial whose job
fails is recorded as failed and the search goes on. The Hydra plugin shell is
``hydra_plugins.senn_optuna_sweeper``; the search space keeps Hydra's override grammar
(``tag(log, interval(1e-4, 1.0))``, ``choice(a, b)``, ``range(1, 5)``).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep, Transformer
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)
INSTALL = "the search needs Optuna: pip install 'senn[search]'"
RDB_SCHEMES = ("sqlite:", "postgresql", "mysql", "oracle", "mssql")


def _optuna() -> Any:
    """The optuna module, or an ImportError that says which extra to install."""
    try:
        import optuna
    except ImportError as err:
        raise ImportError(INSTALL) from err
    return optuna


def distribution(override: Override) -> Any:
    """The Optuna distribution of a sweep override: ``interval`` (floats, with an optional ``log`` tag),
    ``range`` (integers), ``choice`` (categories); None for a plain value, which every trial gets as it is."""
    distributions = _optuna().distributions
    if not override.is_sweep_override():
        return None
    value = override.value()
    if isinstance(value, IntervalSweep):  # Hydra reads interval bounds as floats; integers come from range()
        return distributions.FloatDistribution(float(value.start), float(value.end), log="log" in value.tags)
    if isinstance(value, RangeSweep) and not value.shuffle:
        if all(isinstance(v, int) for v in (value.start, value.stop, value.step)):
            return distributions.IntDistribution(value.start, value.stop - value.step, step=value.step)
    if isinstance(value, ChoiceSweep | RangeSweep):
        return distributions.CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    raise ValueError(f"{override.input_line}: not a search dimension the sweeper knows (interval, choice, range)")


def storage(url: str | None) -> Any:
    """Optuna storage: None (in memory), an RDB URL (``sqlite:///…``, ``postgresql://…``), or else the path of
    a journal file (created with its folder)."""
    if url is None:
        return None
    if str(url).startswith(RDB_SCHEMES):
        return str(url)
    journal = _optuna().storages.journal
    Path(url).parent.mkdir(parents=True, exist_ok=True)
    return _optuna().storages.JournalStorage(journal.JournalFileBackend(str(url)))


def trial_values(returned: Any, objectives: int) -> list[float]:
    """A job's return value as the objectives' floats; ValueError when it does not fit or is not finite."""
    values = [float(returned)] if isinstance(returned, int | float) else [float(v) for v in returned]
    if len(values) != objectives:
        raise ValueError(f"the run returned {len(values)} values for {objectives} objectives")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"the run returned non-finite objectives {values}")
    return values


class OptunaSearch:
    """The state of one ``-m`` invocation: the study, the launcher, the next job number.

    Args:
        direction: ``minimize`` / ``maximize``, or one per objective (the run returns them in order).
        study_name: the study's name in the storage (a rerun with the same name resumes it).
        storage: a journal file path (default), an RDB URL, or None for an in-memory study.
        n_trials: trials this invocation runs.
        n_jobs: trials per batch, launched together (in parallel where the launcher can).
        sampler: ``auto`` (NSGA-II for several objectives, TPE for one), ``nsgaii``, ``tpe`` or ``random``.
        seed: the sampler's seed.
        population_size: NSGA-II's population.
        params: the search space, ``{key: sweep override}`` in Hydra's grammar.
    """

    def __init__(self, direction: Any = "minimize", study_name: str | None = None, storage: str | None = None,
                 n_trials: int = 20, n_jobs: int = 1, sampler: str = "auto", seed: int | None = None,
                 population_size: int = 50, params: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.directions = [str(direction)] if isinstance(direction, str) else [str(d) for d in direction]
        if n_trials < 1 or n_jobs < 1:
            raise ValueError(f"hydra.sweeper.n_trials={n_trials} and n_jobs={n_jobs} must be >= 1")
        self.study_name, self.storage_url = study_name, storage
        self.n_trials, self.n_jobs = n_trials, n_jobs
        self.sampler_name, self.seed, self.population_size = sampler, seed, population_size
        self.params = {str(k): str(v) for k, v in (params or {}).items()}
        self.launcher: Any = None
        self.config: DictConfig | None = None
        self.job_idx = 0

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        """Hydra's set-up: the configured launcher runs the trials."""
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _sampler(self, offset: int = 0) -> Any:
        """The sampler, seeded with ``seed + offset``: the trials a resumed study already has shift the seed,
        so that its first random points are not the earlier invocation's again."""
        samplers = _optuna().samplers
        seed = None if self.seed is None else self.seed + offset
        name = self.sampler_name
        if name == "auto":
            name = "nsgaii" if len(self.directions) > 1 else "tpe"
        if name == "nsgaii":
            return samplers.NSGAIISampler(seed=seed, population_size=self.population_size)
        if name == "tpe":
            return samplers.TPESampler(seed=seed)
        if name == "random":
            return samplers.RandomSampler(seed=seed)
        raise ValueError(f"hydra.sweeper.sampler={name!r}: use auto, nsgaii, tpe or random")

    def sweep(self, arguments: list[str]) -> Any:
        """Run ``n_trials`` trials in batches of ``n_jobs``; record each as complete or failed; write the best
        trials (the Pareto front for several objectives) to ``<sweep dir>/optimization_results.yaml``."""
        optuna = _optuna()
        parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in self.params.items()] + arguments)
        space: dict[str, Any] = {}
        fixed: dict[str, str] = {}
        for override in parsed:  # the command line comes last and wins: a fixed value leaves the search space
            key, dimension = override.get_key_element(), distribution(override)
            if dimension is None:
                fixed[key] = override.input_line
                space.pop(key, None)
            else:
                space[key] = dimension
                fixed.pop(key, None)
        study = optuna.create_study(study_name=self.study_name, storage=storage(self.storage_url),
                                    directions=self.directions, load_if_exists=True)  # fmt: skip
        study.sampler = self._sampler(offset=len(study.trials))  # a resumed search draws new points
        log.info("study %s (%d trials so far) in %s; %d more, %d at a time", study.study_name, len(study.trials),
                 self.storage_url or "memory", self.n_trials, self.n_jobs)  # fmt: skip
        remaining = self.n_trials
        while remaining > 0:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, remaining))]
            batch = [tuple([*fixed.values(), *(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                                               for k, v in t.params.items())]) for t in trials]  # fmt: skip
            returns = self.launcher.launch(batch, initial_job_idx=self.job_idx)
            self.job_idx += len(returns)
            for trial, job in zip(trials, returns, strict=True):
                try:
                    study.tell(trial, trial_values(job.return_value, len(self.directions)))
                except Exception as err:  # the job raised, or returned something unusable: failed, go on
                    log.warning("trial %d failed: %s", trial.number, err)
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
            remaining -= len(trials)
        self._write_results(study)
        return study

    def _write_results(self, study: Any) -> None:
        """``optimization_results.yaml``: the best trial, or every Pareto-optimal one."""
        complete = [t for t in study.trials if t.state.name == "COMPLETE"]
        best = study.best_trials if complete else []
        solutions = [{"number": t.number, "params": t.params, "values": t.values} for t in best]
        results = {"name": "senn_optuna", "study_name": study.study_name, "trials": len(study.trials),
                   "complete": len(complete), "directions": self.directions, "solutions": solutions}  # fmt: skip
        if self.config is not None:
            path = Path(self.config.hydra.sweep.dir) / "optimization_results.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(OmegaConf.create(results), path)
        log.info("%d of %d trials complete; %d best: %s", len(complete), len(study.trials), len(best),
                 [(t.number, t.values) for t in best])  # fmt: skip
