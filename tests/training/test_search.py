"""The Optuna search's pieces: search dimensions from Hydra's grammar, storage, and what counts as a result.
(The search end to end, resumed and in parallel: tests/evaluation/test_sweep.py.)"""

from __future__ import annotations

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from senn.training.search import distribution, storage, trial_values


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


def test_a_run_counts_only_with_one_finite_value_per_objective():
    assert trial_values((0.9, 0.1), 2) == [0.9, 0.1] and trial_values(0.5, 1) == [0.5]
    with pytest.raises(ValueError, match="returned 1 values for 2 objectives"):
        trial_values(0.9, 2)
    with pytest.raises(ValueError, match="non-finite"):
        trial_values((float("nan"), 0.1), 2)
