"""Command-line entry points (Hydra applications). They draw into files, never windows: importing this
package selects matplotlib's Agg backend (the library itself leaves the backend to its user)."""

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

from senn.config import config_dir

matplotlib.use("Agg")

__all__ = ["config_dir", "exit_on_user_errors", "remove_if_unused"]


@contextmanager
def exit_on_user_errors(command: str, errors: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError),
                        cleanup: Callable[[], None] | None = None) -> Iterator[None]:  # fmt: skip
    """Turn ``errors`` a user can fix (config values, data, checkpoints, inputs) into one message on stderr
    (``<command>: <error>``) and exit status 1, without a traceback; with ``SENN_TRACEBACK=1`` in the
    environment they are raised as usual. ``cleanup`` runs before the exit."""
    try:
        yield
    except errors as err:
        if os.environ.get("SENN_TRACEBACK"):
            raise
        if cleanup is not None:
            cleanup()
        sys.exit(f"{command}: {err}")


def remove_if_unused(run_dir: Path) -> None:
    """Delete a run folder that holds nothing but what Hydra wrote at start-up (its config and log)."""
    if run_dir.is_dir() and all(p.name == ".hydra" or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir)
