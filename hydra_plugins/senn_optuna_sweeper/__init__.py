"""senn's Optuna sweeper, selected by ``hydra/sweeper=senn_optuna``: this Hydra plugin shell (Hydra loads
sweepers only from ``hydra_plugins``) and the search itself in :mod:`.search`."""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class OptunaSweeper(Sweeper):
    """Hydra's ``Sweeper`` around :class:`.search.OptunaSearch`; keyword arguments are its own."""

    def __init__(self, **settings: Any) -> None:
        from hydra_plugins.senn_optuna_sweeper.search import OptunaSearch  # on use: plugin discovery stays light

        self.search = OptunaSearch(**settings)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        """Instantiate the configured launcher."""
        self.search.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        """Run the search."""
        return self.search.sweep(arguments)
