"""``senn-explain``: explain a trained SENN's predictions on test rows, raw table rows or image files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from senn.checkpoints import load_checkpoint
from senn.cli import config_dir, exit_on_user_errors, remove_if_unused
from senn.explain import explain
from senn.explain.explanation import Explanation, class_output
from senn.explain.inputs import read_inputs, recorded_data
from senn.explain.plots import plot_explanation, save_figure
from senn.explain.prototypes import Prototypes, concept_prototypes
from senn.training import SENNModule

log = logging.getLogger(__name__)


def _prototypes(module: SENNModule, cfg: DictConfig) -> Prototypes | None:
    """Each concept's top training examples, shown beside its bar (None when the training data is not here)."""
    try:  # thumbnails are not worth a download: only the files already here are read
        data = recorded_data(module, "train", cfg.get("data_dir"), download=False)
        x, _ = data.head("train", 1000)
    except (ValueError, FileNotFoundError):
        log.warning("no concept thumbnails: the training data is not here (data_dir=<folder> points to it)")
        return None
    return concept_prototypes(module, x, k=cfg.thumbnails, traversal_steps=0, feature_vis_steps=0)


def run(cfg: DictConfig) -> Explanation:
    """Explain ``cfg.input`` with the checkpoint ``cfg.ckpt_path``; print and write the results."""
    module = load_checkpoint(cfg.ckpt_path, cfg.get("device", "cpu"))
    if not isinstance(module, SENNModule):
        raise ValueError(f"{cfg.ckpt_path} holds a {type(module).__name__}, not a SENN: it explains nothing itself")
    x, sources = read_inputs(cfg.input, module, cfg.split, cfg.get("data_dir"))
    target = cfg.get("target")
    explanation = explain(module, x.to(module.device), None if target is None else class_output(module, target)).cpu()
    records = [{"source": source, **record} for source, record in zip(sources, explanation.to_records(), strict=True)]
    if cfg.format == "json":
        print(json.dumps(records, indent=2))
        return explanation
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    prototypes = _prototypes(module, cfg) if x.dim() == 4 and cfg.thumbnails > 0 else None
    (out / "explanations.json").write_text(json.dumps(records, indent=2) + "\n")
    print(explanation.to_text(cfg.top, sources), end="\n\n")
    for i in range(len(sources)):
        fig = plot_explanation(explanation, x, i, prototypes=prototypes, thumbnails=cfg.thumbnails)
        save_figure(fig, out / f"explanation_{i + 1}.png", dpi=100)
    print(f"{len(sources)} explanation(s): figures explanation_1..{len(sources)}.png and explanations.json in {out}")
    return explanation


@hydra.main(config_path=config_dir(), config_name="explain", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Explain the inputs ``cfg.input`` with the checkpoint ``cfg.ckpt_path``."""
    if cfg.format == "json":  # stdout carries JSON only
        logging.disable(logging.INFO)
    try:  # inputs, targets, checkpoints: one message, no traceback, no empty output folder
        with exit_on_user_errors("senn-explain", cleanup=lambda: remove_if_unused(Path(cfg.output_dir))):
            run(cfg)
    finally:
        logging.disable(logging.NOTSET)  # a caller in the same process gets its logging back


if __name__ == "__main__":
    main()
