"""Shared fixtures: tiny models of every kind, the location of the real data when present, and console
commands run in this process."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig

from senn.config import config_dir
from senn.models import (
    SENN,
    ConvConceptizer,
    IdentityConceptizer,
    LeNetParametrizer,
    MLPConceptizer,
    MLPParametrizer,
    SumAggregator,
)
from senn.runs import fill_from_data, train

REPO = Path(__file__).resolve().parents[1]

SMALL = [
    "data=synthetic", "data.num_samples=400", "data.batch_size=50",
    "model/conceptizer=mlp", "model.conceptizer.num_concepts=4",
    "model/parametrizer=mlp", "model.parametrizer.hidden_sizes=[16]",
    "model.optimizer.lr=0.01",
    "trainer.max_epochs=3", "callbacks.progress_bar.refresh_rate=0",
]  # fmt: skip
"""A small synthetic SENN (10 features, 4 MLP concepts, 3 classes, 8 steps an epoch): the tests' training run."""


def make_model(kind: str, num_classes: int = 3) -> tuple[SENN, torch.Tensor]:
    """A small float64 SENN in eval mode and a batch of 4 inputs for it."""
    torch.manual_seed(0)
    task = "binary" if num_classes == 1 else "multiclass"
    if kind == "conv":  # image autoencoder concepts, 2 channels, 12x12
        conceptizer = ConvConceptizer(in_channels=2, image_size=12, num_concepts=4, channels=(3, 5), kernel_size=3)
        parametrizer = LeNetParametrizer(2, 12, 4, num_classes, channels=(3, 5), kernel_size=3, hidden_size=8)
        x = torch.randn(4, 2, 12, 12)
    elif kind == "mlp":  # tabular autoencoder concepts
        conceptizer = MLPConceptizer(in_features=6, num_concepts=3, hidden_sizes=(8,))
        parametrizer = MLPParametrizer(6, 3, num_classes, hidden_sizes=(8, 8))
        x = torch.randn(4, 6)
    elif kind == "identity":  # raw features plus the bias concept
        conceptizer = IdentityConceptizer(in_features=5, bias=True)
        parametrizer = MLPParametrizer(5, 6, num_classes, hidden_sizes=(8,))
        x = torch.randn(4, 5)
    elif kind == "features":  # raw features alone: the concepts are the input tensor itself
        conceptizer = IdentityConceptizer(in_features=5)
        parametrizer = MLPParametrizer(5, 5, num_classes, hidden_sizes=(8,))
        x = torch.randn(4, 5)
    elif kind == "identity_image":  # pixels as concepts, image parametrizer
        conceptizer = IdentityConceptizer(in_features=64)
        parametrizer = LeNetParametrizer(1, 8, 64, num_classes, channels=(3,), kernel_size=3, hidden_size=8)
        x = torch.randn(4, 1, 8, 8)
    else:
        raise ValueError(kind)
    model = SENN(conceptizer, parametrizer, SumAggregator(num_classes, task), input_shape=x.shape[1:])
    return model.double().eval(), x.double()


@pytest.fixture(params=["conv", "mlp", "identity", "identity_image"])
def tiny(request: pytest.FixtureRequest) -> tuple[SENN, torch.Tensor]:
    """Every kind of small model with a matching input batch."""
    return make_model(request.param)


def shared_data_dir() -> Path | None:
    """The directory with the real MNIST / COMPAS files, if this machine has it."""
    candidates = [os.environ.get("SENN_DATA_DIR"), REPO.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
            return Path(candidate)
    return None


@pytest.fixture
def real_data_dir() -> Path:
    """The real data directory; skips the test where it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("real MNIST/COMPAS files not present (set SENN_DATA_DIR)")
    return path


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit status and what it printed."""

    code: int
    out: str
    err: str


def run_command(argv: list[str], cwd: Path, capsys: pytest.CaptureFixture) -> Ran:
    """Run a senn console script (``argv[0]``, e.g. ``senn-train``) in this process from ``cwd``, as the
    installed script would: the same entry point, arguments and exit status, without paying the imports of
    a new interpreter. ``sys.exit("message")`` reads as status 1 with the message on stderr."""
    main = entry_points(group="console_scripts")[argv[0]].load()
    old_argv, old_cwd = sys.argv, Path.cwd()
    sys.argv, code, message = list(argv), 0, ""
    os.chdir(cwd)
    try:
        main()
    except SystemExit as stop:
        code, message = (1, f"{stop.code}\n") if isinstance(stop.code, str) else (stop.code or 0, "")
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
        for handler in logging.root.handlers[:]:  # Hydra's handlers hold this test's captured streams
            logging.root.removeHandler(handler)
            handler.close()
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err + message)


if os.environ.get("PYTEST_XDIST_WORKER"):  # two workers on two cores: one thread each, subprocesses included
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After ``make test-gpu`` on a GPU: the table of what was compared with the CPU."""
    gpu = sys.modules.get("tests.test_gpu")
    if gpu is None or not gpu.REPORT:
        return
    terminalreporter.section("GPU against CPU")
    width = max(len(what) for what, _, _ in gpu.REPORT)
    for what, difference, tolerance in gpu.REPORT:
        terminalreporter.write_line(f"{what:<{width}}  max |GPU − CPU| {difference:.3g}  ({tolerance})")


def compose_train(overrides: list[str]) -> DictConfig:
    """``senn-train``'s config with ``overrides``, as the command line would compose it."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("train", overrides=overrides)


def build_module(overrides: list[str]) -> Any:
    """The LightningModule ``senn-train`` would build from ``overrides``: sizes and names filled from the data."""
    cfg = compose_train(overrides)
    fill_from_data(cfg.model, instantiate(cfg.data))
    return instantiate(cfg.model, _recursive_=False)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, float], Path]:
    """``SMALL`` trained once for the whole session (3 epochs, no logger): its metrics and run folder. Tests
    that change the folder work on a copy (``shutil.copytree``)."""
    folder = tmp_path_factory.mktemp("small") / "run"
    return train(compose_train([*SMALL, "logger=none", f"output_dir={folder}"])), folder
