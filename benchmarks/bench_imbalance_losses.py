"""Benchmark: imbalance-aware losses on a long-tailed set, and test-time augmentation.

Trains the same LipNet-4 recipe (masked, 28x28, seeded, equal epochs) on a
long-tailed ``make_liposomes`` lamellarity set (imbalance ratio 100: class
weights 100/10/1) with each treatment of the imbalance: none, class weights,
balanced batches, logit-adjusted loss (tau 1 = balanced softmax, and tau 2),
and post-hoc logit adjustment of a network trained without label smoothing. It prints each class's
recall and the balanced accuracy on a separate balanced test set (recall
does not depend on the test set's class mix).

Then test-time augmentation on the logit-adjusted network: balanced accuracy
and predict time without TTA, with the 4 flips and with the 8 dihedral
transforms.

The default is reduced (1,000 training particles, 10 epochs, one seed; a few
minutes on 2 idle cores); ``--full`` trains 5,000 particles for 30 epochs
over three seeds.

Run: python benchmarks/bench_imbalance_losses.py [--full] [--n-train N] [--epochs E]
"""

# License: BSD 3 clause

import os

# Before NumPy is imported: at most 2 threads for every BLAS.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "2"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, recall_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklipo.classifier import LipNetClassifier  # noqa: E402
from sklipo.datasets import make_liposomes  # noqa: E402
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

TREATMENTS = {
    "none": {},
    "class_weight": {"class_weight": "balanced"},
    "balanced_batches": {"balanced_batches": True},
    "balanced_softmax": {"loss": "balanced_softmax"},
    "logit_adj. tau=2": {"loss": "logit_adjusted", "loss_tau": 2.0},
    "post-hoc 1.0": {"logit_adjustment": 1.0, "label_smoothing": 0.0},
}


def _recipe(epochs, seed, **params):
    return make_pipeline(
        CropParticle("masked"), IntensityNormalizer(), Resize(28),
        LipNetClassifier("lipnet4", max_epochs=epochs, random_state=seed, **params),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    n_train, epochs, seeds = (5000, 30, (0, 1, 2)) if args.full else (
        args.n_train, args.epochs, (0,))
    torch.set_num_threads(2)
    test = make_liposomes(n_samples=600, weights=[1, 1, 1], random_state=100)
    rare = {}
    last = None
    print(f"{'treatment':<18}{'seed':>5}" + "".join(f"{n[:10]:>12}" for n in test.target_names)
          + f"{'bal. acc':>10}{'fit s':>7}")
    for seed in seeds:
        train = make_liposomes(n_samples=n_train, weights=[100, 10, 1], random_state=seed)
        counts = np.bincount(train.target, minlength=3)
        print(f"training counts {counts.tolist()} (ratio {counts.max() / counts.min():.0f})")
        for name, params in TREATMENTS.items():
            start = time.perf_counter()
            model = _recipe(epochs, seed, **params).fit(train.data, train.target)
            seconds = time.perf_counter() - start
            predicted = model.predict(test.data)
            recall = recall_score(test.target, predicted, average=None)
            rare.setdefault(name, []).append(recall[2])
            print(f"{name:<18}{seed:>5}" + "".join(f"{r:>12.3f}" for r in recall)
                  + f"{balanced_accuracy_score(test.target, predicted):>10.3f}{seconds:>7.0f}",
                  flush=True)
            if name == "balanced_softmax":
                last = model
    print("mean recall of the rarest class:",
          ", ".join(f"{k} {np.mean(v):.3f}" for k, v in rare.items()))
    print(f"\nTTA on the balanced-softmax network ({len(test.target)} test particles)")
    print(f"{'tta':<10}{'bal. acc':>10}{'predict s':>11}")
    for tta in (None, "flips", "dihedral"):
        model = last
        model[-1].set_params(tta=tta)
        start = time.perf_counter()
        predicted = model.predict(test.data)
        seconds = time.perf_counter() - start
        print(f"{str(tta):<10}{balanced_accuracy_score(test.target, predicted):>10.3f}"
              f"{seconds:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
