"""Training cost of the robustness regularizer against the number of concepts K and classes C, at CUB scale.

One full training step (forward, every loss term, backward, Adam step) of a ResNet-18-backed SENN (the
``cub`` presets' model: ImageNet-sized ResNet-18, fine-tuned, K concepts from a linear head, θ an MLP head
on the same features) on a batch of 32 random 64 × 64 images (224 × 224 with ``--device cuda``), for
K ∈ {5, 28, 112} and C ∈ {10, 50, 200} and each regularizer:

* ``none``: λ = 0;
* ``projection``: senn's training default, one vector-Jacobian product whatever C;
* ``features``: the same projection w.r.t. the backbone's features (``model.robustness_space=features``),
  a pass through the heads only;
* ``lazy``: the input-space projection on every 4th step only, weighted 4 there
  (``model.robustness_every_n_steps=4``): the same objective on average; its time is a 4-step cycle's mean;
* ``exact``: senn's exact value, C VJPs through θ;
* ``published``: the public implementations' approach, C + K create-graph gradient calls (of the
  log-probabilities), one norm over the batch, a plain ``loss.backward()``.

Each (K, C, variant) runs in a process of its own, under an address-space limit (``--memory-gb``, 16 by
default, of this machine's 24), so that one that runs out of memory is reported as such instead of taking
the machine down. Reported: seconds per step (median of ``--steps`` after one warm-up step; with ``--repeats``, the
median over that many runs of each variant, interleaved, against the machine's drift), samples per
second, and the peak memory training adds to the built model (activations, gradients and Adam's state; CPU:
the process's peak resident set size over its resident size before the first step; CUDA: the same with
``max_memory_allocated``). Writes one JSON line per run to ``--out`` and
prints a markdown table. Usage::

    python experiments/benchmarks/cost_vs_concepts.py [--steps 2] [--repeats 1] [--memory-gb 16] [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

BATCH, LAMBDA, LAZY_EVERY = 32, 1e-4, 4
CONCEPTS, CLASSES = (5, 28, 112), (10, 50, 200)
VARIANTS = ("none", "projection", "features", "lazy", "exact", "published")
CHEAP = ("projection", "features", "lazy")  # the ways to train with the regularizer, compared with none
RESULTS = Path(__file__).resolve().parent / "results"


def resident_bytes() -> int:
    """The process's resident set size now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def one_run(k: int, c: int, variant: str, steps: int, device: str) -> dict:
    """Time ``steps`` training steps of one (K, C, variant) in this process."""
    from senn.losses import classification_loss, published_robustness_loss, robustness_loss, sparsity_loss
    from senn.models import SENN, BackboneConceptizer, BackboneParametrizer, SumAggregator

    torch.manual_seed(0)
    size = 224 if device == "cuda" else 64
    conceptizer = BackboneConceptizer(image_size=size, num_concepts=k, weights="none", frozen=False,
                                      activation="linear")  # fmt: skip
    parametrizer = BackboneParametrizer(image_size=size, num_concepts=k, num_classes=c)
    model = SENN(conceptizer, parametrizer, SumAggregator(c)).to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-4)
    x = torch.randn(BATCH, 3, size, size, device=device)
    y = torch.randint(0, c, (BATCH,), device=device)

    def one_step(regularize: bool, weight: float = LAMBDA) -> None:
        optimizer.zero_grad()
        xs = x.clone().requires_grad_(regularize and variant != "features")
        out = model.from_features(xs := model.backbone(xs)) if variant == "features" else model(xs)
        loss = classification_loss(out.logits, y) + 2e-5 * sparsity_loss(out.concepts)
        if regularize and variant == "published":
            (loss + weight * published_robustness_loss(model, xs, output=out)).backward()
        else:
            if regularize:
                estimator = "projection" if variant in CHEAP else variant
                loss = loss + weight * robustness_loss(model, xs, estimator, output=out)
            loss.backward(inputs=params)
        optimizer.step()

    def step() -> None:  # a lazy "step" is a whole cycle: the regularized step, then LAZY_EVERY - 1 without
        if variant != "lazy":
            return one_step(variant != "none")
        one_step(True, LAZY_EVERY * LAMBDA)
        for _ in range(LAZY_EVERY - 1):
            one_step(False)

    synchronize = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    baseline = resident_bytes()  # the built model and the batch
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        baseline = torch.cuda.memory_allocated()
    step()  # warm-up (Adam's state allocated)
    times = []
    for _ in range(steps):
        synchronize()
        start = time.perf_counter()
        step()
        synchronize()
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) - baseline  # fmt: skip
    seconds = statistics.median(times) / (LAZY_EVERY if variant == "lazy" else 1)
    memory = round(max(peak, 0) / 2**20, 1)
    return {"K": k, "C": c, "variant": variant, "seconds_per_step": round(seconds, 3),
            "samples_per_s": round(BATCH / seconds, 2), "peak_step_memory_mb": memory}  # fmt: skip


def run_isolated(k: int, c: int, variant: str, args: argparse.Namespace) -> dict:
    """One run in a child process under the memory limit; out of memory is a result, not a crash."""
    command = [sys.executable, __file__, "--one", str(k), str(c), variant, "--steps", str(args.steps),
               "--device", args.device, "--memory-gb", str(args.memory_gb)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode == 0:
        return json.loads(done.stdout.strip().splitlines()[-1])
    out_of_memory = "alloc" in done.stderr.lower() or "memory" in done.stderr.lower() or done.returncode == -9
    status = f"out of memory (limit {args.memory_gb} GiB)" if out_of_memory else done.stderr.strip()[-300:]
    return {"K": k, "C": c, "variant": variant, "failed": status}


def combined(runs: list[dict]) -> dict:
    """One record from repeated runs of a (K, C, variant): the median time, the largest peak memory."""
    if any("failed" in r for r in runs):
        return next(r for r in runs if "failed" in r)
    seconds = statistics.median(r["seconds_per_step"] for r in runs)
    return {**runs[0], "seconds_per_step": seconds, "samples_per_s": round(BATCH / seconds, 2),
            "peak_step_memory_mb": max(r["peak_step_memory_mb"] for r in runs),
            "seconds_per_step_runs": [r["seconds_per_step"] for r in runs]}  # fmt: skip


def ratio(base: dict, other: dict) -> str:
    """``other``'s time and peak memory as multiples of ``base``'s."""
    if "seconds_per_step" not in base or "seconds_per_step" not in other:
        return "–"
    memory = other["peak_step_memory_mb"] / max(base["peak_step_memory_mb"], 1)
    return f"{other['seconds_per_step'] / base['seconds_per_step']:.2f}×, {memory:.2f}×"


def table(records: list[dict]) -> str:
    """Markdown: one row per (K, C), seconds per step and peak memory per variant, and the cheap variants vs none."""
    columns = ["K", "C", *(f"{v}: s/step, MB" for v in VARIANTS), *(f"{v} / none: time, memory" for v in CHEAP)]
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for k, c in sorted({(r["K"], r["C"]) for r in records}):
        got = {r["variant"]: r for r in records if r["K"] == k and r["C"] == c}
        cells = [(f"{got[v]['seconds_per_step']:.2f}, {got[v]['peak_step_memory_mb']:.0f}" if "failed" not in got[v]
                  else got[v]["failed"]) if v in got else "–" for v in VARIANTS]  # fmt: skip
        ratios = [ratio(got.get("none", {}), got.get(v, {})) for v in CHEAP]
        lines.append(f"| {k} | {c} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def main() -> None:
    """Every (K, C, variant), each in its own process; JSON lines and a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2, help="timed steps per run (after one warm-up step)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per variant, interleaved; the median is kept")
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    parser.add_argument("--memory-gb", type=float, default=16.0, help="address-space limit of each run (CPU)")
    parser.add_argument("--out", type=Path, default=RESULTS / "cost_vs_concepts.jsonl")
    parser.add_argument("--concepts", type=int, nargs="+", default=CONCEPTS, help="the values of K")
    parser.add_argument("--classes", type=int, nargs="+", default=CLASSES, help="the values of C")
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    parser.add_argument("--append", action="store_true", help="add to --out (the table covers the whole file)")
    parser.add_argument("--one", nargs=3, metavar=("K", "C", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.device == "cpu":
            limit = int(args.memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        k, c, variant = args.one
        print(json.dumps(one_run(int(k), int(c), variant, args.steps, args.device)))
        return
    start = time.perf_counter()
    machine = {"threads": torch.get_num_threads(), "torch": torch.__version__, "device": args.device,
               "cpu": platform.processor() or platform.machine(), "batch_size": BATCH}  # fmt: skip
    with open(args.out, "a" if args.append else "w") as f:
        for k in args.concepts:
            for c in args.classes:
                runs = [run_isolated(k, c, v, args) for _ in range(args.repeats) for v in args.variants]
                for variant in args.variants:
                    record = {**combined([r for r in runs if r["variant"] == variant]), **machine}
                    f.write(json.dumps(record) + "\n")
                    f.flush()
                    print(json.dumps(record), flush=True)
    records = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
    print(table(records))
    print(f"total {(time.perf_counter() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
