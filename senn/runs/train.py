"""``train(cfg)``: build everything from a composed config, fit, test the best checkpoint."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint

from senn.runs.record import RunRecord, stop_reason
from senn.runs.resume import resume_path
from senn.runs.sizes import check_compatible
from senn.runs.validation import validate_config
from senn.training.base import SupervisedModule
from senn.training.history import MetricHistory

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Train and test a SENN as ``cfg`` says; return every logged metric.

    ``val/...`` entries are those of the best epoch (the epoch of the best checkpoint), so that the
    objectives a sweeper reads are values one model had; ``metrics[cfg.monitor]`` is that best value.
    ``test/...`` entries come from testing that checkpoint; ``train/...`` ones from the last epoch.
    ``<output_dir>/metrics.json`` adds the best checkpoint and epoch, why training stopped and the
    per-epoch validation history; a summary of them is logged at the end.
    """
    datamodule = validate_config(cfg)  # every config mistake before training; fills what the data determines
    ckpt_path = resume_path(cfg)  # ckpt_path=last: this run folder's last.ckpt, or a clear refusal
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    quiet_lightning_tips()
    pl.seed_everything(cfg.seed, workers=True)
    module: SupervisedModule = instantiate(cfg.model, _recursive_=False)
    check_compatible(datamodule, module.model)
    module.data_config = OmegaConf.to_container(cfg.data, resolve=True)
    datamodule.setup()  # read before any logger starts: missing data leaves no run folder behind
    if hasattr(datamodule, "fitted_arguments"):  # statistics fitted on the training split, for re-use
        module.data_config.update(datamodule.fitted_arguments())

    history = MetricHistory()  # per-epoch val metrics, so the returned ones all come from the best epoch
    callbacks = [*(instantiate(c) for c in (cfg.get("callbacks") or {}).values()), history]
    loggers = [instantiate(wandb_reachable_or_offline(c)) for c in (cfg.get("logger") or {}).values()]
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    hparams = _flat(OmegaConf.to_container(cfg, resolve=True))
    if HydraConfig.initialized():  # what a sweep summary reads back from offline wandb runs
        hparams["overrides"] = list(HydraConfig.get().overrides.task)
    for logger in loggers:
        logger.log_hyperparams(hparams)

    try:
        # weights_only: a checkpoint to resume from can never run pickled code
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        record = _fitted(cfg, trainer, callbacks, history)  # before testing reloads older callback states
        if cfg.get("test"):
            best = record.best_checkpoint or None
            (results,) = trainer.test(module, datamodule=datamodule, ckpt_path=best, weights_only=True)
            record = replace(record, metrics={**record.metrics, **{k: float(v) for k, v in results.items()}})
        if trainer.is_global_zero:  # what sweep summaries and senn-train's closing summary read
            _write_record(cfg, record, hparams.get("overrides", []), loggers)
    except BaseException:
        _finish_wandb(loggers, exit_code=1)
        raise
    _finish_wandb(loggers, exit_code=0)
    return record.metrics


def _fitted(cfg: DictConfig, trainer: pl.Trainer, callbacks: list[pl.Callback], history: MetricHistory) -> RunRecord:
    """The run's record as fitting left it: every ``val/...`` metric of the best epoch (``cfg.monitor`` the best
    checkpoint's score), the best checkpoint, the last epoch, why training stopped and the validation history."""
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    checkpoint = next((c for c in callbacks if isinstance(c, ModelCheckpoint)), None)
    best = history.best(cfg.monitor, cfg.monitor_mode)
    if best is not None:  # every val/ metric of the best epoch, not of the last
        metrics.update({k: v for k, v in best.items() if k != "epoch"})
    if checkpoint is not None and checkpoint.best_model_score is not None:
        metrics[cfg.monitor] = float(checkpoint.best_model_score)
    return RunRecord(
        metrics=metrics,
        best_checkpoint=checkpoint.best_model_path if checkpoint is not None else "",
        best_epoch=best["epoch"] if best is not None else None,
        last_epoch=trainer.current_epoch - 1,
        stop_reason=stop_reason(trainer, callbacks),
        history=list(history.records),
    )


def _write_record(cfg: DictConfig, record: RunRecord, overrides: list[str], loggers: list[Any]) -> None:
    """``metrics.json`` and ``overrides.json`` in the run folder and in each wandb run folder (a wandb folder
    copied back from a cluster reads itself), then the closing summary in the log."""
    for folder in [Path(cfg.output_dir), *_wandb_folders(loggers)]:
        folder.mkdir(parents=True, exist_ok=True)
        record.save(folder)
        (folder / "overrides.json").write_text(json.dumps(overrides) + "\n")
    log.info(record.summary(cfg.output_dir, cfg.monitor))


def _wandb_folders(loggers: list[Any]) -> list[Path]:
    """The files folder of each wandb run (``wandb/<run>/files``), while the run is open."""
    return [Path(logger.experiment.dir) for logger in loggers if type(logger).__name__ == "WandbLogger"]


def _no_tip(record: logging.LogRecord) -> bool:
    """False for Lightning's advertising "💡 Tip: …" lines (cloud loggers and uploads)."""
    return not str(record.msg).startswith("💡 Tip")


def quiet_lightning_tips() -> None:
    """Silence Lightning's tips on every run (once per process; its other messages stay)."""
    lightning_log = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if _no_tip not in lightning_log.filters:
        lightning_log.addFilter(_no_tip)


def _finish_wandb(loggers: list[Any], exit_code: int) -> None:
    """End the wandb run, if a logger started one: the next job of a multirun runs in this process and
    would otherwise log into it (Lightning's ``WandbLogger`` reuses a run in progress)."""
    if any(type(logger).__name__ == "WandbLogger" for logger in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish(exit_code=exit_code)


def wandb_reachable_or_offline(logger_cfg: DictConfig, timeout: float = 3.0) -> DictConfig:
    """A logger config, switched to offline mode if it is an online wandb logger whose server does not
    answer an HTTP request within ``timeout`` seconds (wandb itself would hang for minutes). Warns when
    it switches; any HTTP answer, even an error status, counts as reachable."""
    online = str(logger_cfg.get("_target_", "")).endswith("WandbLogger") and not logger_cfg.get("offline", False)
    if not online or os.environ.get("WANDB_MODE") in ("offline", "disabled", "dryrun"):
        return logger_cfg
    url = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
        return logger_cfg
    except urllib.error.HTTPError:
        return logger_cfg  # the server answered
    except (OSError, ValueError) as err:  # refused, timed out, no route, bad URL
        warnings.warn(f"wandb server {url} unreachable ({err}); logging offline instead (upload later with "
                      "`wandb sync`)", stacklevel=2)  # fmt: skip
        switched = logger_cfg.copy()
        switched.offline = True
        return switched


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts flattened to ``a/b/c`` keys, for loggers' hyperparameter tables."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(_flat(value, f"{prefix}/{key}" if prefix else str(key)))
    return flat
