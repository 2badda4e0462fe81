"""Benchmark: finding particles in whole micrographs, and the whole predict path.

Draws seeded ``make_micrographs`` sets, TEM (lamellarity and encapsulation)
and two-colour fluorescence, with clusters of touching particles (half of
them placed touching another), debris and uneven background. A
``ParticleFinder`` learns the diameter range and polarity from a few
annotated micrographs; on the held-out ones (at least 20 per set) it prints
detection precision, recall and F1 at box IoU 0.5 (target, issue 15: F1 >=
0.90) and the mean IoU of the matched boxes.

Then the whole path on 1024x1024 micrographs: find, cut out and segment
(``load_annotated_micrographs`` settings), classify with a small fitted model
(masked, normalised, 24x24 pixels into a logistic regression, trained on
the annotated micrographs' cut-outs),
in micrographs per second on 2 threads, with the time of each stage, and the
balanced accuracy of the particles found (matched to a true box) against that
of the same model on the true boxes.

Run: python benchmarks/bench_detection.py [--n-micrographs 20] [--n-large 4]
"""

# License: BSD 3 clause

import os

# Before NumPy is imported: at most 2 threads for every BLAS.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "2"

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline

from sklipo.datasets import load_annotated_micrographs, make_micrographs
from sklipo.detection import ParticleFinder, classify_micrographs
from sklipo.metrics import detection_scores, match_boxes
from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

N_TRAIN = 6
CUTOUT = {"surrounding": 10}
SETS = {
    "TEM lamellarity": {"modality": "tem", "problem": "lamellarity"},
    "TEM encapsulation": {"modality": "tem", "problem": "encapsulation", "weights": [1, 1, 1]},
    "fluorescence 2ch": {"modality": "fluorescence", "weights": [1, 1, 1]},
    "fluorescence 3ch JPEG": {"modality": "fluorescence", "n_channels": 3,
                              "jpeg_quality": 85, "weights": [1, 1, 1]},
}


def _detection(name, kwargs, args):
    data = make_micrographs(
        n_micrographs=N_TRAIN + args.n_micrographs, shape=(512, 512), n_particles=(15, 25),
        clustering=args.clustering, random_state=args.seed, **kwargs,
    )
    finder = ParticleFinder().fit(data.images[:N_TRAIN], data.boxes[:N_TRAIN])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = finder.predict(data.images[N_TRAIN:])
    seconds = time.perf_counter() - start
    scores = detection_scores(data.boxes[N_TRAIN:], found, iou_threshold=0.5)
    low, high = finder.diameter_range_
    print(f"{name:<24}{scores.n_true:>6}{scores.n_pred:>6}{scores.precision:>7.3f}"
          f"{scores.recall:>7.3f}{scores.f1:>7.3f}{scores.mean_iou:>7.2f}"
          f"{f'{low:.0f}-{high:.0f}':>9}{seconds / args.n_micrographs * 1000:>8.0f}")
    return scores.f1


def _throughput(name, kwargs, args):
    train = make_micrographs(
        n_micrographs=N_TRAIN, shape=(512, 512), n_particles=(15, 25),
        clustering=args.clustering, random_state=args.seed + 1, **kwargs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        particles = load_annotated_micrographs(train.images, train.labels, train.target_names,
                                               pixel_size=train.pixel_size, **CUTOUT)
    model = make_pipeline(
        CropParticle("masked"), IntensityNormalizer("quantile"), Resize(24), Flatten(),
        LogisticRegression(C=0.1, max_iter=300),
    ).fit(particles.data, particles.target)
    finder = ParticleFinder().fit(train.images, train.boxes)
    test = make_micrographs(
        n_micrographs=args.n_large, shape=(1024, 1024), n_particles=(50, 70),
        clustering=args.clustering, random_state=args.seed + 2, **kwargs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        boxes = [finder.find(image).boxes for image in test.images]
        find_s = time.perf_counter() - start
        start = time.perf_counter()
        result = classify_micrographs(model, test.images, boxes=boxes, cutout=CUTOUT,
                                      pixel_size=test.pixel_size)
        rest_s = time.perf_counter() - start
        # The same model on the true boxes, for comparison.
        true = classify_micrographs(model, test.images, boxes=test.boxes, cutout=CUTOUT,
                                    pixel_size=test.pixel_size)
    found_true, found_pred, all_true, all_pred = [], [], [], []
    for m, (mine, truth) in enumerate(zip(result.micrographs, true.micrographs)):
        t, p, _ = match_boxes(test.boxes[m], mine.boxes)
        found_true.append(test.targets[m][t])
        found_pred.append(mine.labels[p] if len(p) else np.zeros(0, dtype=int))
        all_true.append(test.targets[m])
        all_pred.append(truth.labels)
    found_acc = balanced_accuracy_score(np.concatenate(found_true), np.concatenate(found_pred))
    true_acc = balanced_accuracy_score(np.concatenate(all_true), np.concatenate(all_pred))
    total = find_s + rest_s
    n_found = sum(len(b) for b in boxes)
    print(f"{name:<24}{args.n_large / total:>8.2f}{find_s / args.n_large:>8.2f}"
          f"{rest_s / args.n_large:>8.2f}{n_found / args.n_large:>8.0f}"
          f"{found_acc:>10.3f}{true_acc:>10.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-micrographs", type=int, default=20, help="held out, per set")
    parser.add_argument("--n-large", type=int, default=4, help="1024x1024, per set")
    parser.add_argument("--clustering", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-detection", action="store_true")
    args = parser.parse_args()
    print(f"Detection: {args.n_micrographs} held-out 512x512 micrographs per set (finder fitted "
          f"on {N_TRAIN}), 15-25 particles, clustering {args.clustering}, seed {args.seed}")
    print(f"{'set':<24}{'true':>6}{'found':>6}{'prec':>7}{'recall':>7}{'F1':>7}{'IoU':>7}"
          f"{'diam px':>9}{'ms/mg':>8}")
    for name, kwargs in SETS.items():
        if not args.skip_detection:
            _detection(name, kwargs, args)
    if args.skip_throughput:
        return
    print(f"\nWhole path on {args.n_large} 1024x1024 micrographs per set (50-70 particles), "
          "24x24 logistic regression; seconds per micrograph; balanced accuracy of found vs true boxes")
    print(f"{'set':<24}{'mg/s':>8}{'find':>8}{'cut+cls':>8}{'found':>8}"
          f"{'bacc fnd':>10}{'bacc true':>10}")
    for name, kwargs in SETS.items():
        _throughput(name, kwargs, args)


if __name__ == "__main__":
    main()
