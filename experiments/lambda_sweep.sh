#!/usr/bin/env bash
# The paper's accuracy–stability trade-off: λ ∈ {1e-4, 1e-3, 1e-2, 1e-1, 1} for an experiment preset,
# then senn-sweep-summary (accuracy, stability and faithfulness from senn-evaluate, mean ± std over seeds,
# the trade-off and Pareto figures), copied to experiments/results/lambda_<experiment>/.
# Further arguments are Hydra overrides for every run.
#   experiments/lambda_sweep.sh compas "0,1,2"                                             # ≈3 min
#   experiments/lambda_sweep.sh mnist "0,1,2" model.robustness_estimator=projection        # ≈3 min per run
#   experiments/lambda_sweep.sh mnist "0"                                                  # exact: ≈9 min per run
set -euo pipefail
cd "$(dirname "$0")/.."
experiment="$1"
seeds="${2:-0,1,2}"
shift $(( $# < 2 ? $# : 2 ))
export WANDB_MODE="${WANDB_MODE:-disabled}"
dir=outputs/sweeps/lambda_$experiment
.venv/bin/senn-train -m experiment="$experiment" "model.robustness_weight=1e-4,1e-3,1e-2,1e-1,1" "seed=$seeds" \
  logger=csv callbacks.progress_bar.refresh_rate=0 hydra.sweep.dir="$dir" "$@"
# raw (unnormalized) stability, as the recorded results were measured (senn-evaluate's default is now unit)
.venv/bin/senn-sweep-summary "$dir" --evaluate-examples 100 --evaluate-overrides stability.normalize=none \
  --out experiments/results/lambda_"$experiment"
