#!/usr/bin/env bash
# Regenerates experiments/results/{mnist,breast_cancer}_evaluation*: trains each SENN preset and its plain
# baseline, then runs senn-evaluate on the same 100 test inputs (about 25 minutes on a 2-core CPU, most of
# it LIME, KernelSHAP and occlusion), and the MNIST stability under each normalization with the
# like-for-like comparisons (about 4 minutes each). Needs SENN_DATA_DIR with MNIST/raw.
set -euo pipefail
cd "$(dirname "$0")/.."
export WANDB_MODE="${WANDB_MODE:-disabled}"
bin=.venv/bin
results=experiments/results
best() { ls "$1"/checkpoints/epoch_*.ckpt | head -1; }

for name in mnist mnist_plain breast_cancer breast_cancer_plain; do
  $bin/senn-train experiment=$name logger=csv hydra.run.dir=outputs/quality/$name
done
$bin/senn-evaluate ckpt_path="$(best outputs/quality/mnist)" baseline_ckpt_path="$(best outputs/quality/mnist_plain)" \
  num_examples=100 hydra.run.dir=outputs/quality/eval_mnist
# Stability under each normalization, with the like-for-like comparisons (unit is the default above)
for how in unit max none; do
  $bin/senn-evaluate ckpt_path="$(best outputs/quality/mnist)" baseline_ckpt_path="$(best outputs/quality/mnist_plain)" \
    num_examples=100 stability.normalize=$how \
    "methods=[saliency,input_x_gradient,integrated_gradients,excitation_pullback]" prototypes.num_examples=0 \
    hydra.run.dir=outputs/quality/eval_mnist_$how
done
$bin/senn-evaluate ckpt_path="$(best outputs/quality/breast_cancer)" \
  baseline_ckpt_path="$(best outputs/quality/breast_cancer_plain)" num_examples=100 hydra.run.dir=outputs/quality/eval_breast_cancer

for run in mnist breast_cancer; do
  mkdir -p $results/${run}_evaluation
  cp outputs/quality/eval_$run/{metrics.json,per_example.csv,stability.png,faithfulness.png,posthoc_examples.png,explanation_1.png} \
    $results/${run}_evaluation/
done
cp outputs/quality/eval_mnist/prototypes/prototypes.png $results/mnist_evaluation/
for how in unit max none; do
  mkdir -p $results/mnist_stability_$how
  cp outputs/quality/eval_mnist_$how/{metrics.json,stability.png} $results/mnist_stability_$how/
done
