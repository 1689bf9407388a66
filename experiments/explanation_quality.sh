#!/usr/bin/env bash
# Regenerates experiments/results/{mnist,breast_cancer}_evaluation*: trains each SENN preset and its plain
# baseline, then runs senn-evaluate on the same 100 test inputs (about 25 minutes on a 2-core CPU, most of
# it LIME, KernelSHAP and occlusion). Needs SENN_DATA_DIR with MNIST/raw.
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
$bin/senn-evaluate ckpt_path="$(best outputs/quality/mnist)" baseline_ckpt_path="$(best outputs/quality/mnist_plain)" \
  num_examples=100 stability.normalise=true "methods=[saliency,input_x_gradient,integrated_gradients,excitation_pullback]" \
  prototypes.num_examples=0 hydra.run.dir=outputs/quality/eval_mnist_normalised
$bin/senn-evaluate ckpt_path="$(best outputs/quality/breast_cancer)" \
  baseline_ckpt_path="$(best outputs/quality/breast_cancer_plain)" num_examples=100 hydra.run.dir=outputs/quality/eval_breast_cancer

for run in mnist breast_cancer; do
  mkdir -p $results/${run}_evaluation
  cp outputs/quality/eval_$run/{metrics.json,per_example.csv,stability.png,faithfulness.png,posthoc_examples.png,explanation_1.png} \
    $results/${run}_evaluation/
done
cp outputs/quality/eval_mnist/prototypes/prototypes.png $results/mnist_evaluation/
mkdir -p $results/mnist_evaluation_normalised
cp outputs/quality/eval_mnist_normalised/{metrics.json,stability.png} $results/mnist_evaluation_normalised/
