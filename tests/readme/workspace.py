"""The README's commands as a user runs them, in a folder of their own: what tests/readme/ checks them with.

Commands run in this process through their console entry points (``tests.conftest.run_command``), in a
fresh folder, in README order where one needs another's output, shrunk to seconds: every training run gets
the ``debug=default`` preset, the data are generated stand-ins in the layouts senn reads (MNIST's IDX files,
ProPublica's COMPAS columns, an image folder, digit PNGs), and a command that sets a size itself gets a
smaller one (``SHRINK``). Placeholders such as ``<run>`` become the folders earlier commands made. The
commands in ``INSTALLED`` run as the installed console scripts, in processes of their own.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from tests.conftest import REPO, Ran, run_command
from tests.standins import write_compas, write_cub, write_digit_png, write_image_folder, write_mnist


def readme_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``, in order."""
    text = (REPO / "README.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def readme_commands() -> list[str]:
    """Every shell command of the README's bash blocks (continuation lines joined, comments dropped)."""
    commands = []
    for block in readme_blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            command = " ".join(re.sub(r"(^|\s)#\s.*$", "", line).split())  # comments dropped, spaces collapsed
            if command:
                commands.append(command)
    return commands


COMMANDS = readme_commands()
MAKE = [c for c in COMMANDS if c.startswith("make ")]
"""``make train`` / ``make test`` / ``make install``: set-up around the commands below (checked apart)."""

SHRINK = {
    "num_examples=100": ["num_examples=4", "stability.budget=2", "prototypes.num_examples=40", "prototypes.k=4",
                         "prototypes.feature_vis_steps=8", "examples_to_plot=2"],
    "--evaluate-examples 100": ["--evaluate-examples", "10", "--evaluate-overrides", "stability.budget=3"],
    "hparams_search=stability_tradeoff": ["hydra.sweeper.n_trials=2", "hydra.sweeper.population_size=2"],
    "trainer=ddp": ["data.batch_size=32", "model.parametrizer.dropout=0"],  # 2 x 32: one process's batches of 64
    # (each process draws dropout masks for its half: with dropout the runs cannot agree to the last bits)
    "ckpt_path=last": ["trainer.max_epochs=2"],  # the resumed run has an epoch left to train
    "experiment=cub": ["data.image_size=16", "data.min_classes=2", "data.num_workers=0", "data.batch_size=8",
                       "model.conceptizer.weights=none"],  # the small archive; no ImageNet download here
}  # fmt: skip
"""A command containing the key gets these arguments appended: it sets a size itself that the debug preset
cannot shrink."""

PLACEHOLDERS = {
    "outputs/mnist/<run>": lambda ws, capsys: ws.run_folder(COMMANDS_BY_NAME["mnist"], capsys, relative=True),
    "multirun/mnist/<time>": lambda ws, capsys: ws.sweep_folder(COMMANDS_BY_NAME["grid"], capsys, relative=True),
    "<senn.ckpt>": lambda ws, capsys: ws.best_checkpoint(COMMANDS_BY_NAME["mnist"], capsys),
    "<plain.ckpt>": lambda ws, capsys: ws.best_checkpoint(COMMANDS_BY_NAME["mnist_plain"], capsys),
    "<partition>": lambda ws, capsys: "debug",
}


def first(prefix: str) -> str:
    """The first README command that starts with ``prefix``."""
    return next(c for c in COMMANDS if c.startswith(prefix))


COMMANDS_BY_NAME = {
    "mnist": "senn-train experiment=mnist",
    "mnist_plain": "senn-train experiment=mnist_plain",
    "grid": first("senn-train -m experiment=mnist model.robustness_weight="),
    "wine_csv": first("python -c"),
    "wine": first("senn-train experiment=tabular data.path=wine.csv"),
    "images": first("senn-train data=image_folder"),
    "shapes_supervised": "senn-train experiment=shapes_supervised",
}

NEEDS = {
    COMMANDS_BY_NAME["wine"]: [COMMANDS_BY_NAME["wine_csv"]],
    **{c: [COMMANDS_BY_NAME["wine"]] for c in COMMANDS if "outputs/wine/" in c},
    first("senn-explain ckpt_path=outputs/mine/"): [COMMANDS_BY_NAME["images"]],
}
"""Commands that read what another one wrote (placeholders say so themselves)."""


INSTALLED = {first("senn-train experiment=mnist trainer=ddp")}  # DDP starts its second process from the script
"""Commands run as the installed console scripts, in a process of their own (the rest run in this one; the scripts
call the functions they run, tests/readme/test_commands.py checks, and tests/evaluation/test_evaluate.py runs
one from another directory)."""


class Workspace:
    """A user's folder: commands run once each, on first request, with what they need made beforehand."""

    def __init__(self, root: Path) -> None:
        self.root, self.results, self.index = root, {}, {}

    def arguments(self, command: str, capsys: pytest.CaptureFixture) -> list[str]:
        """The command's words with placeholders filled in, plus the shrinking arguments."""
        for placeholder, fill in PLACEHOLDERS.items():
            if placeholder in command:
                command = command.replace(placeholder, str(fill(self, capsys)))
        words = shlex.split(command)
        if words[0] == "senn-train":
            words += [] if "debug=default" in words else ["debug=default"]
            if any(w in ("experiment=mnist", "experiment=mnist_plain") for w in words):
                words.append("data.verify_checksums=false")  # the generated stand-in is not the real MNIST
        hydra_app = words[0] in ("senn-train", "senn-evaluate", "senn-explain") and "-m" not in words
        if hydra_app and "hydra.run.dir=" not in command and command != COMMANDS_BY_NAME["mnist"]:
            # a folder of its own: two runs within one second would share outputs/<task>/<time>
            words.append(f"hydra.run.dir=outputs/readme/{self.index.setdefault(command, len(self.index))}")
        for key, extra in SHRINK.items():
            if key in command:
                words += extra
        return words

    def run(self, command: str, capsys: pytest.CaptureFixture) -> Ran:
        """The result of ``command`` (run now if it has not run yet); it must succeed."""
        if command not in self.results:
            for need in NEEDS.get(command, ()):
                self.run(need, capsys)
            result = self.execute(self.arguments(command, capsys), capsys, installed=command in INSTALLED)
            assert result.code == 0, f"{command}\n{result.out[-3000:]}\n{result.err[-3000:]}"
            self.results[command] = result
        return self.results[command]

    def execute(self, words: list[str], capsys: pytest.CaptureFixture, installed: bool = False) -> Ran:
        """Run the words of a command in the workspace, reading its data and writing its studies there (in a
        process of its own with ``installed``, through the console script)."""
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SENN_DATA_DIR", str(self.root / "data"))
            env.setenv("SENN_OPTUNA_DIR", str(self.root))
            env.setenv("WANDB_MODE", "disabled")
            if words[:2] == ["python", "-c"]:
                env.chdir(self.root)
                exec(compile(words[2], "README", "exec"), {})  # the README's own snippet
                return Ran(0, "", "")
            if installed:
                script = Path(sys.executable).parent / words[0]
                done = subprocess.run([str(script), *words[1:]], cwd=self.root, capture_output=True, text=True,
                                      timeout=600)  # fmt: skip
                return Ran(done.returncode, done.stdout, done.stderr)
            return run_command(words, self.root, capsys)

    def run_folder(self, command: str, capsys: pytest.CaptureFixture, relative: bool = False) -> Path:
        """The run folder ``senn-train`` named in its closing summary."""
        folder = Path(re.search(r"run folder:\s+(\S+)", self.run(command, capsys).out)[1])
        return folder.relative_to(self.root) if relative else folder

    def sweep_folder(self, command: str, capsys: pytest.CaptureFixture, relative: bool = False) -> Path:
        """The one sweep folder the MNIST grid made under ``multirun/mnist/``."""
        self.run(command, capsys)
        (folder,) = (self.root / "multirun" / "mnist").iterdir()
        return folder.relative_to(self.root) if relative else folder

    def best_checkpoint(self, command: str, capsys: pytest.CaptureFixture) -> Path:
        """The best checkpoint of a training command's run, as its ``metrics.json`` records it."""
        return Path(json.loads((self.run_folder(command, capsys) / "metrics.json").read_text())["best_checkpoint"])


def resolved(run: Path) -> tuple[dict, dict]:
    """A run's resolved config and its config-group choices, as Hydra saved them."""
    config = OmegaConf.to_container(OmegaConf.load(run / ".hydra" / "config.yaml"))
    choices = OmegaConf.load(run / ".hydra" / "hydra.yaml").hydra.runtime.choices
    return config, dict(choices)


def assert_overrides_applied(run: Path, words: list[str]) -> None:
    """Every ``key=value`` of the command is in the run's resolved config (group choices among its choices)."""
    config, choices = resolved(run)
    for override in OverridesParser.create().parse_overrides([w for w in words if "=" in w]):
        key, value = override.key_or_group, override.value()
        if key.startswith("hydra") or key == "ckpt_path" or override.is_sweep_override():
            continue
        if key in choices and "." not in key:
            assert choices[key] == value, (key, choices[key], value)
        else:
            assert OmegaConf.select(OmegaConf.create(config), key) == value, key


def assert_trained(ws: Workspace, command: str, capsys: pytest.CaptureFixture) -> Path:
    """What the README promises of every training run: the closing summary, the run folder's files, the
    config with the command's values."""
    result = ws.run(command, capsys)
    summary = result.out[result.out.index("senn-train finished") :]
    assert "best checkpoint:" in summary and "test:" in summary and "stopped:" in summary
    run = ws.run_folder(command, capsys)
    assert (run / ".hydra" / "config.yaml").exists() and (run / "checkpoints" / "last.ckpt").exists()
    assert len(list((run / "checkpoints").glob("epoch_*.ckpt"))) == 1  # the best
    assert "senn-train finished" in next(run.glob("*.log")).read_text()  # the summary is in the run's log
    assert_overrides_applied(run, ws.arguments(command, capsys))
    return run


TRAIN = [c for c in COMMANDS if c.startswith("senn-train ") and " -m " not in c and "trainer=ddp" not in c]
"""The single training runs: each checked by tests/readme/test_commands.py::test_training_command."""


CHECKED: dict[str, str] = {}


def check(command: str):
    """Register the test function that checks ``command`` (a README command, verbatim)."""

    def register(test):
        assert command in COMMANDS, f"not a README command: {command}"
        CHECKED[command] = test.__name__
        return test

    return register


def written_to(result: Ran) -> Path:
    """The folder senn-explain says it wrote its figures to."""
    return Path(re.search(r"explanations\.json in (\S+)", result.out)[1])


def make_workspace(root: Path) -> Workspace:
    """A fresh folder with generated data in ``data/`` (the commands' ``$SENN_DATA_DIR``) and the files the
    README's commands read."""
    write_mnist(root / "data")
    write_compas(root / "data")
    write_image_folder(root / "my_images")
    write_cub(root / "data")
    (root / "new").mkdir()
    for i in range(2):
        write_digit_png(root / "new" / f"{i}.png", label=i)
    write_digit_png(root / "digit.png")
    return Workspace(root)
