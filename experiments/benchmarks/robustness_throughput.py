"""Training throughput of the MNIST paper model with each robustness regularizer, side by side.

The model is the ``experiment=mnist`` preset's (Hydra overrides change it, e.g. the paper's narrower
parametrizer: ``--overrides model.parametrizer.channels=[10,20] model.parametrizer.padding=0
model.parametrizer.hidden_size=50 model.parametrizer.dropout=0.5``). Every variant runs the same
full training step (forward, every loss term, backward, Adam step) on batches of 200 MNIST-shaped
inputs; only the regularizer differs:

* ``none``: λ = 0, no regularizer;
* ``published``: the public implementations' approach (``senn.losses.published_robustness_loss``): one
  create-graph gradient call per class (of the log-probabilities) and per concept, then one
  Frobenius norm over the whole batch, and a plain ``loss.backward()``;
* ``exact``, ``projection``, ``jacobian``: senn's estimators, as ``SENNModule`` trains with them
  (backward into the parameters only).

Variants are interleaved over several rounds and the median is reported. Prints one JSON line per
variant. Usage: ``python experiments/benchmarks/robustness_throughput.py [--steps 10 --rounds 3] [--device cuda]``
(``make test-gpu`` times ``none``, ``projection`` and ``exact`` on a GPU).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from senn.config import config_dir
from senn.losses import (
    classification_loss,
    published_robustness_loss,
    reconstruction_loss,
    robustness_loss,
    sparsity_loss,
)
from senn.models import SENN
from senn.models.utils import resolve_device
from senn.runs import fill_from_data

BATCH, LAMBDA, SPARSITY = 200, 1e-4, 2e-5


def paper_model(overrides: list[str]) -> SENN:
    """The ``experiment=mnist`` preset's SENN, with Hydra overrides applied."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=mnist", "output_dir=.", *overrides])
    fill_from_data(cfg.model, instantiate(cfg.data))  # the sizes MNIST determines, as senn-train fills them
    return instantiate(cfg.model, _recursive_=False).model


Step = Callable[[torch.Tensor, torch.Tensor], None]


def make_step(variant: str, model: SENN, optimizer: torch.optim.Optimizer) -> Step:
    """One training step of ``variant``."""
    params = [p for p in model.parameters() if p.requires_grad]

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        optimizer.zero_grad()
        x = x.clone().requires_grad_(variant != "none")
        out = model(x)
        loss = classification_loss(out.logits, y) + reconstruction_loss(out.reconstruction, x.detach())
        loss = loss + SPARSITY * sparsity_loss(out.concepts)
        if variant == "published":  # as the public code does: plain backward, input gradient included
            (loss + LAMBDA * published_robustness_loss(model, x, output=out)).backward()
        else:
            if variant != "none":
                loss = loss + LAMBDA * robustness_loss(model, x, variant, output=out)
            loss.backward(inputs=params)
        optimizer.step()

    return step


def main() -> None:
    """Time every variant and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--variants", default="none,published,exact,projection,jacobian")
    parser.add_argument("--overrides", nargs="*", default=[], help="Hydra overrides of the mnist preset's model")
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    args = parser.parse_args()

    device = resolve_device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    torch.manual_seed(0)
    variants = args.variants.split(",")
    x = torch.randn(BATCH, 1, 28, 28, device=device)  # throughput does not depend on the pixel values
    y = torch.randint(0, 10, (BATCH,), device=device)
    steps = {}
    for variant in variants:
        model = paper_model(args.overrides).to(device)
        steps[variant] = make_step(variant, model, torch.optim.Adam(model.parameters(), lr=2e-4))
        for _ in range(3):  # warm-up
            steps[variant](x, y)
    rates: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant in variants:
            synchronize()
            start = time.perf_counter()
            for _ in range(args.steps):
                steps[variant](x, y)
            synchronize()
            rates[variant].append(BATCH * args.steps / (time.perf_counter() - start))
    median = {v: statistics.median(r) for v, r in rates.items()}
    for variant in variants:
        record = {
            "variant": variant,
            "samples_per_s": round(median[variant], 1),
            "vs_none": round(median[variant] / median["none"], 3) if "none" in median else None,
            "vs_published": round(median[variant] / median["published"], 3) if "published" in median else None,
            "rounds": [round(r, 1) for r in rates[variant]],
            "batch_size": BATCH,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "cpu": platform.processor() or platform.machine(),
            "overrides": args.overrides,
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
