"""Make the shipped pretrained checkpoints from finished ``senn-train`` runs of the presets.

Usage (after training each preset with seed 0, e.g. ``senn-train experiment=mnist seed=0
hydra.run.dir=runs/mnist``)::

    python experiments/pretrained.py mnist=runs/mnist compas=runs/compas breast_cancer=runs/breast_cancer

For each run: the best checkpoint (its ``metrics.json``) stripped to weights, hyperparameters and the
data config (``data_dir`` unset so that it resolves on the user's machine), plus a record of the
training command, seed, epoch and test accuracy; written to ``senn/checkpoints/pretrained/<name>.ckpt`` with the
records in ``senn/checkpoints/pretrained/registry.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import yaml
from hydra.utils import instantiate

from senn.checkpoints import AtomicCheckpointIO
from senn.checkpoints.zoo import FOLDER


def strip(run: Path, name: str) -> dict:
    """Write ``<name>.ckpt`` from the run folder ``run``; return its registry record."""
    metrics = json.loads((run / "metrics.json").read_text())
    best = Path(metrics["best_checkpoint"])
    checkpoint = torch.load(best, map_location="cpu", weights_only=True)
    overrides = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text())
    kept = [o for o in overrides if not o.startswith(("hydra.", "logger=", "callbacks.progress_bar"))]
    record = {
        "command": "senn-train " + " ".join(kept),
        "seed": int(next(o.split("=")[1] for o in overrides if o.startswith("seed="))),
        "epoch": int(checkpoint["epoch"]),
        "test_accuracy": metrics["test/acc"],
    }
    data = dict(checkpoint["senn"]["data"])
    preprocessing = checkpoint["senn"].get("preprocessing")
    if preprocessing is None and "standardize" in data:  # runs from before tables kept it: refit, same seed
        datamodule = instantiate(data)
        datamodule.setup()
        preprocessing = datamodule.preprocessor.to_dict()
    data["data_dir"] = None  # $SENN_DATA_DIR or ./data where it is loaded
    shipped = {
        "state_dict": checkpoint["state_dict"],
        "hyper_parameters": checkpoint["hyper_parameters"],
        "senn": {"module": checkpoint["senn"]["module"], "data": data,
                 "preprocessing": preprocessing},
        "pretrained": record,
    }  # fmt: skip
    AtomicCheckpointIO().save_checkpoint(shipped, FOLDER / f"{name}.ckpt")
    return record


def main() -> None:
    """Strip every ``name=run_folder`` argument's best checkpoint into the package."""
    registry_path = FOLDER / "registry.json"
    registry = json.loads(registry_path.read_text()) if registry_path.exists() else {}
    for argument in sys.argv[1:]:
        name, run = argument.split("=", 1)
        registry[name] = strip(Path(run), name)
        size = (FOLDER / f"{name}.ckpt").stat().st_size / 1e6
        print(f"{name}: {registry[name]['command']} -> test accuracy {registry[name]['test_accuracy']:.4f}, "
              f"{size:.2f} MB")  # fmt: skip
    registry_path.write_text(json.dumps(registry, indent=2) + "\n")


if __name__ == "__main__":
    main()
