"""The Hydra plugin shell of senn's Optuna sweeper (Hydra loads sweepers only from ``hydra_plugins``); the
search itself is :mod:`senn.training.search`. Selected by ``hydra/sweeper=senn_optuna``."""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class OptunaSweeper(Sweeper):
    """Hydra's ``Sweeper`` around :class:`senn.training.search.OptunaSearch`; keyword arguments are its own."""

    def __init__(self, **settings: Any) -> None:
        from senn.training.search import OptunaSearch  # imported on use: plugin discovery stays light

        self.search = OptunaSearch(**settings)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        """Instantiate the configured launcher."""
        self.search.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        """Run the search."""
        return self.search.sweep(arguments)
