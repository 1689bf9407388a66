"""The README is a contract: every command in its ``bash`` blocks and every ``python`` block runs here and does
what the README says it does.

Commands run in this process through their console entry points (``tests.conftest.run_command``), in a
fresh folder, in README order where one needs another's output, shrunk to seconds: every training run gets
the ``debug=default`` preset, the data are generated stand-ins in the layouts senn reads (MNIST's IDX files,
ProPublica's COMPAS columns, an image folder, a digit PNG), and a command that sets a size itself gets a
smaller one (``SHRINK``). Placeholders such as ``<run>`` become the folders earlier commands made. The
``trainer=ddp`` command runs as the installed console script, since DDP starts its second process from it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
import torch
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from senn.config import config_dir
from senn.training import PlainModule, load_checkpoint
from senn.zoo import available
from tests.conftest import REPO, Ran, run_command, shared_data_dir
from tests.standins import write_compas, write_digit_png, write_image_folder, write_mnist


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
    **{c: [COMMANDS_BY_NAME["wine"]] for c in COMMANDS if c.startswith("senn-explain ckpt_path=outputs/wine/")},
    first("senn-explain ckpt_path=outputs/mine/"): [COMMANDS_BY_NAME["images"]],
}
"""Commands that read what another one wrote (placeholders say so themselves)."""


INSTALLED = {
    first("senn-train experiment=mnist trainer=ddp"),  # DDP starts its second process from the script
    first("senn-explain ckpt_path=pretrained:mnist input=digit.png"),  # the headline: as a user runs it
}
"""Commands run as the installed console scripts, in a process of their own (the rest run in this one)."""


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
            words.append("debug=default")
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
        self.run(command, capsys)
        (folder,) = (self.root / "multirun" / "mnist").iterdir()
        return folder.relative_to(self.root) if relative else folder

    def best_checkpoint(self, command: str, capsys: pytest.CaptureFixture) -> Path:
        return Path(json.loads((self.run_folder(command, capsys) / "metrics.json").read_text())["best_checkpoint"])


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    """A fresh folder with generated data under ``$SENN_DATA_DIR`` and the files the README's commands read."""
    root = tmp_path_factory.mktemp("readme")
    data = root / "data"
    write_mnist(data)
    write_compas(data)
    write_image_folder(root / "my_images")
    (root / "new").mkdir()
    for i in range(2):
        write_digit_png(root / "new" / f"{i}.png", label=i)
    write_digit_png(root / "digit.png")
    return Workspace(root)


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
        if key.startswith("hydra") or key in ("ckpt_path",) or override.is_sweep_override():
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


def test_every_readme_command_is_checked():
    """A command added to the README gets a check here, or this fails (the set-up commands aside)."""
    checked = {*TRAIN, *CHECKED}
    unchecked = [c for c in COMMANDS if c not in checked and c not in MAKE]
    assert not unchecked, f"README commands without a check in tests/test_readme.py: {unchecked}"
    assert len(COMMANDS) >= 30 and len(readme_blocks("python")) == 3
    makefile = (REPO / "Makefile").read_text()
    assert "senn-train experiment=mnist $(ARGS)" in makefile  # make train runs the first command below


@pytest.mark.parametrize("command", TRAIN)
def test_training_command(ws, command, capsys):
    run = assert_trained(ws, command, capsys)
    if command == COMMANDS_BY_NAME["mnist"]:  # the default layout: outputs/<experiment>/<time>/
        assert run.parent == ws.root / "outputs" / "mnist"
    if "logger=csv" in command:
        assert list(run.glob("csv/version_*/metrics.csv"))
    if "ckpt_path=last" in command:  # resumed the first run, in its own folder, for the one epoch left
        assert run == ws.run_folder(COMMANDS_BY_NAME["mnist"], capsys)
        last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
        assert last["epoch"] == 1 and last["global_step"] == 4
    if "experiment=mnist_plain" in command:
        assert isinstance(load_checkpoint(run / "checkpoints" / "last.ckpt"), PlainModule)
    elif "experiment=shapes_supervised" in command:
        assert "test/concept_loss" in json.loads((run / "metrics.json").read_text())


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


@check(COMMANDS_BY_NAME["wine_csv"])
def test_wine_table_written(ws, capsys):
    ws.run(COMMANDS_BY_NAME["wine_csv"], capsys)
    table = pd.read_csv(ws.root / "wine.csv")
    assert len(table) == 178 and set(table.target) == {"class_0", "class_1", "class_2"}


@check(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt 'input=[0,1]'"))
def test_explain_test_rows_as_text_and_figures(ws, capsys):
    result = ws.run(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt 'input=[0,1]'"), capsys)
    assert "test[0]: predicted class_" in result.out and "test[1]: predicted" in result.out
    assert "= the sum of the contributions" in result.out and "input: alcohol=" in result.out
    out = written_to(result)
    assert [r["source"] for r in json.loads((out / "explanations.json").read_text())] == ["test[0]", "test[1]"]
    assert (out / "explanation_2.png").stat().st_size > 10_000


@check(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt input=new_rows.csv format=json"))
def test_explain_raw_rows_as_json(ws, capsys):
    ws.run(COMMANDS_BY_NAME["wine_csv"], capsys)
    rows = pd.read_csv(ws.root / "wine.csv").drop(columns=["target"]).iloc[:3]  # a user's new rows
    rows.to_csv(ws.root / "new_rows.csv", index=False)
    result = ws.run(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt input=new_rows.csv"), capsys)
    records = json.loads(result.out)  # stdout is JSON only
    assert [r["source"] for r in records] == [f"new_rows.csv row {i}" for i in (1, 2, 3)]
    assert records[0]["input"]["alcohol"] == pytest.approx(rows.alcohol[0])  # the raw values, read back


@check(first("senn-explain ckpt_path=outputs/mine/checkpoints/last.ckpt"))
def test_explain_image_files(ws, capsys):
    result = ws.run(first("senn-explain ckpt_path=outputs/mine/checkpoints/last.ckpt"), capsys)
    module = load_checkpoint(ws.root / "outputs" / "mine" / "checkpoints" / "last.ckpt")
    assert module.model.input_shape == (1, 28, 28) and module.model.class_names == ["bar", "circle"]
    assert "0.png: predicted" in result.out and "1.png: predicted" in result.out
    assert (written_to(result) / "explanation_2.png").exists()


@check(first("senn-explain ckpt_path=pretrained:mnist input=digit.png"))
def test_explain_a_digit_with_the_pretrained_model(ws, capsys):
    result = ws.run(first("senn-explain ckpt_path=pretrained:mnist input=digit.png"), capsys)
    assert "digit.png: predicted " in result.out and "= the sum of the contributions" in result.out
    assert (written_to(result) / "explanation_1.png").stat().st_size > 10_000


@check(first("senn-evaluate ckpt_path=pretrained:breast_cancer"))
def test_evaluate_a_pretrained_table_model(ws, capsys):
    """A table model's evaluation draws its explanation figures (it crashed in plot_explanation before)."""
    result = ws.run(first("senn-evaluate ckpt_path=pretrained:breast_cancer"), capsys)
    report = Path(re.search(r"report:\s+(\S+)", result.out)[1])
    metrics = json.loads((report.parent / "metrics.json").read_text())
    assert metrics["num_examples"] == 4 and metrics["methods"]["senn"]["accuracy"] >= 0.5
    assert (report.parent / "explanation_2.png").exists() and "SENN explanation of example 1" in report.read_text()


@check(first("senn-name-concepts pretrained:mnist"))
def test_name_the_concepts_of_a_pretrained_model(ws, capsys):
    result = ws.run(first("senn-name-concepts pretrained:mnist"), capsys)
    assert "named 5 concepts" in result.out
    assert load_checkpoint(ws.root / "mnist_named.ckpt").model.concept_names == ["loop", "stroke", "bar", "curve",
                                                                                  "blank"]  # fmt: skip
    assert load_checkpoint("pretrained:mnist").model.concept_names is None  # the shipped file is unchanged


@check(COMMANDS_BY_NAME["grid"])
def test_grid_sweep(ws, capsys):
    sweep = ws.sweep_folder(COMMANDS_BY_NAME["grid"], capsys)
    runs = sorted(sweep.glob("*/metrics.json"))
    assert len(runs) == 15  # 5 values of λ x 3 seeds, each in its own folder
    swept = {tuple(yaml.safe_load((p.parent / ".hydra" / "overrides.yaml").read_text())[1:3]) for p in runs}
    assert len(swept) == 15


@check(first("senn-sweep-summary multirun/mnist/<time>"))
def test_sweep_summary(ws, capsys):
    result = ws.run(first("senn-sweep-summary multirun/mnist/<time>"), capsys)
    summary = ws.sweep_folder(COMMANDS_BY_NAME["grid"], capsys) / "summary"
    assert "senn-sweep-summary finished (15 runs)" in result.out
    runs = json.loads((summary / "runs.json").read_text())
    assert len(runs) == 15 and all(r["stability"] > 0 and -1 <= r["faithfulness"] <= 1 for r in runs)
    table = [line for line in (summary / "summary.md").read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 5  # the header, then one row per λ (mean ± std over the 3 seeds)
    assert (summary / "tradeoff.png").exists() and (summary / "pareto.png").exists()


@check(first("senn-train -m experiment=compas hparams_search=stability_tradeoff"))
def test_bayesian_search(ws, capsys):
    ws.run(first("senn-train -m experiment=compas hparams_search=stability_tradeoff"), capsys)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(ws.root / "optuna_compas.journal")))  # fmt: skip
    study = optuna.load_study(study_name="senn_compas_tradeoff", storage=storage)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert all(len(t.values) == 2 for t in study.trials)  # (val/acc, val/robustness_loss): a Pareto front
    (sweep,) = (ws.root / "multirun" / "compas").iterdir()
    assert yaml.safe_load((sweep / "optimization_results.yaml").read_text())["trials"] == 2


@check(first("senn-train experiment=mnist trainer=ddp trainer.devices=2"))
def test_ddp_matches_one_process(ws, capsys):
    """Two processes with half the batch each train, log and checkpoint once, and test like one process
    with the whole batch: the first command's run (up to floating-point summation order)."""
    command = first("senn-train experiment=mnist trainer=ddp trainer.devices=2")
    result = ws.run(command, capsys)
    assert result.out.count("senn-train finished") == 1  # rank zero summarises
    run = Path(re.search(r"run folder:\s+(\S+)", result.out)[1])
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_000.ckpt", "last.ckpt"]
    single = ws.execute(["senn-train", "experiment=mnist", "debug=default", "data.verify_checksums=false",
                         "model.parametrizer.dropout=0", "hydra.run.dir=outputs/single"], capsys)  # fmt: skip
    assert single.code == 0, single.err[-3000:]
    ddp, one = (json.loads((folder / "metrics.json").read_text()) for folder in (run, ws.root / "outputs" / "single"))
    ddp, one = ({k: v for k, v in m.items() if k.startswith("test/")} for m in (ddp, one))
    assert ddp.keys() == one.keys() and "test/robustness_loss" in ddp
    for name, value in one.items():
        assert ddp[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name


@check(first("senn-train -m hydra/launcher=slurm"))
def test_slurm_sweep_config(ws, capsys):
    """No cluster here: the command's config asks submitit for the promised SLURM job shape."""
    words = ws.arguments(first("senn-train -m hydra/launcher=slurm"), capsys)
    overrides = [w.split(",")[0] if w.startswith("seed=") else w for w in words[2:]]  # one point of the sweep
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher") and launcher.partition == "debug"
    assert (launcher.tasks_per_node, launcher.nodes) == (4, 2) == (cfg.trainer.devices, cfg.trainer.num_nodes)
    assert cfg.trainer.strategy == "ddp"


@check(first("senn-evaluate ckpt_path=<senn.ckpt> baseline_ckpt_path=<plain.ckpt>"))
def test_evaluate_against_post_hoc_methods(ws, capsys):
    result = ws.run(first("senn-evaluate ckpt_path=<senn.ckpt> baseline_ckpt_path=<plain.ckpt>"), capsys)
    report = Path(re.search(r"report:\s+(\S+)", result.out)[1])
    metrics = json.loads((report.parent / "metrics.json").read_text())
    assert list(metrics["methods"]) == ["senn", "saliency", "input_x_gradient", "integrated_gradients", "occlusion",
                                        "lime", "kernel_shap", "excitation_pullback"]  # fmt: skip
    assert "like_for_like" in metrics and (report.parent / "prototypes").is_dir()
    assert "senn-evaluate finished" in result.out and report.stat().st_size > 10_000


def test_python_snippets(ws, capsys, tmp_path, monkeypatch):
    """The three Python blocks, run in order in one namespace, with the inputs the README's prose gives them:
    ``x`` a batch from the trained MNIST run, ``x_test`` more of its test split, ``target`` their classes;
    ``module`` and ``datamodule`` of a run on data with annotated concepts for the last block."""
    mnist = ws.run_folder(COMMANDS_BY_NAME["mnist"], capsys)
    shapes = ws.run_folder(COMMANDS_BY_NAME["shapes_supervised"], capsys)
    module = load_checkpoint(mnist / "checkpoints" / "last.ckpt")
    from hydra.utils import instantiate

    datamodule = instantiate({**module.data_config, "data_dir": str(ws.root / "data"), "verify_checksums": False})
    x_test, _ = datamodule.head("test", 60)
    namespace = {"x": x_test[:4], "x_test": x_test, "target": torch.zeros(4, dtype=torch.long)}
    monkeypatch.chdir(tmp_path)
    use, explanations, concepts = readme_blocks("python")
    exec(compile(use, "README: Use from Python", "exec"), namespace)
    out = namespace["out"]
    assert (out.logits.shape, out.concepts.shape, out.relevances.shape) == ((8, 10), (8, 5), (8, 5, 10))
    assert namespace["loss"].ndim == 0 and torch.isfinite(namespace["loss"])
    explanations = explanations.replace("outputs/mnist/<run>", str(mnist))
    exec(compile(explanations, "README: Explanations", "exec"), namespace)
    assert namespace["e"].target_relevances.shape == (4, 5)
    assert sorted(p.name for p in (tmp_path / "prototypes").glob("concept_*.npz")) == [
        f"concept_{k}.npz" for k in range(1, 6)]  # fmt: skip
    namespace["module"] = load_checkpoint(shapes / "checkpoints" / "last.ckpt")
    namespace["datamodule"] = instantiate({**namespace["module"].data_config, "num_train": 300, "num_test": 300})
    namespace["datamodule"].setup()
    exec(compile(concepts, "README: Concepts you can check", "exec"), namespace)
    q = namespace["q"]
    assert 0.5 <= q.alignment.mean_auc <= 1 and len(q.alignment.matched_auc) == 5


@pytest.mark.parametrize("name", sorted(available()))
def test_evaluate_every_pretrained_model_whose_data_is_here(name, tmp_path, capsys, monkeypatch):
    """``ckpt_path=pretrained:<name>`` in senn-evaluate, on the real data (breast cancer ships with
    scikit-learn; MNIST and COMPAS where ``$SENN_DATA_DIR`` has them)."""
    if name != "breast_cancer" and shared_data_dir() is None:
        pytest.skip(f"the real {name} data is not here (set SENN_DATA_DIR)")
    if shared_data_dir() is not None:
        monkeypatch.setenv("SENN_DATA_DIR", str(shared_data_dir()))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    result = run_command(["senn-evaluate", f"ckpt_path=pretrained:{name}", "num_examples=8", "stability.budget=2",
                          "prototypes.num_examples=30", "prototypes.feature_vis_steps=4", "examples_to_plot=1",
                          f"hydra.run.dir={tmp_path}"], tmp_path, capsys)  # fmt: skip
    assert result.code == 0, result.err[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["methods"]["senn"]["accuracy"] >= 0.5 and (tmp_path / "explanation_1.png").exists()


def test_console_scripts_are_the_entry_points():
    """Each installed script calls the function these tests run (the pyproject's [project.scripts])."""
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts") if ep.value.startswith("senn.")}
    assert scripts == {"senn-train": "senn.cli.train:main", "senn-evaluate": "senn.cli.evaluate:main",
                       "senn-explain": "senn.cli.explain:main", "senn-name-concepts": "senn.cli.name_concepts:main",
                       "senn-sweep-summary": "senn.cli.sweep_summary:main"}  # fmt: skip
    for name in scripts:
        assert os.access(Path(sys.executable).parent / name, os.X_OK), name
