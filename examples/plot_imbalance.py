"""
=====================================================
Class imbalance: which technique helps which class
=====================================================

Compares the study's remedies for class imbalance on synthetic lamellarity
data (:func:`~sklipo.datasets.make_liposomes`), with one small CNN per row
and stratified cross-validation; test folds are never resampled:

- none: the imbalanced training folds as they are;
- oversampling: minority particles repeated to the majority count;
- oversampling + augmentation: randomly transformed copies, and the
  network's on-the-fly augmentation (the study's winning pair);
- SMOTE: synthetic minority images interpolated in pixel space;
- class weights: a loss that weighs classes by inverse frequency;
- per-epoch undersampling: 20 % of the majority class left out of every
  epoch, drawn anew each time.

It prints the recall of each class per technique. The output below comes
from the documentation's small run (``--gallery``: 510 particles, 2 epochs,
3 folds); the full run is ``python examples/plot_imbalance.py`` (1500
particles, 20 epochs, 5 folds). Run with ``--smoke`` (or ``SKLIPO_SMOKE=1``)
for a seconds-long run on a tiny set; its numbers mean nothing beyond
showing that everything runs.
"""

import os
import sys

import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.metrics import recall_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sklipo.classifier import LipNetClassifier
from sklipo.datasets import make_liposomes
from sklipo.preprocessing import CropParticle, Resize
from sklipo.sampling import AugmentedOverSampler, ParticleSampler

SMOKE = "--smoke" in sys.argv or os.environ.get("SKLIPO_SMOKE") == "1"
# --gallery: the documentation's small run, whose output the gallery page shows
GALLERY = "--gallery" in sys.argv
N_SAMPLES, MAX_EPOCHS, N_SPLITS = (
    (90, 1, 2) if SMOKE else (510, 2, 3) if GALLERY else (1500, 20, 5)
)

data = make_liposomes("lamellarity", N_SAMPLES, weights=[0.75, 0.15, 0.10], random_state=0)
X, y = data.data, data.target


def net(**params):
    params = {"augment": None, **params}
    return LipNetClassifier("lipnet1", max_epochs=MAX_EPOCHS, random_state=0, **params)


def pipeline(*, sampler_before_resize=None, sampler_after_resize=None, **net_params):
    steps = [("crop", CropParticle(mode="masked"))]
    if sampler_before_resize is not None:
        steps.append(("sampler", sampler_before_resize))
    steps.append(("resize", Resize(28)))
    if sampler_after_resize is not None:
        steps.append(("sampler", sampler_after_resize))
    return Pipeline(steps + [("net", net(**net_params))])


techniques = {
    "none": pipeline(),
    "oversampling": pipeline(
        sampler_before_resize=ParticleSampler(RandomOverSampler(random_state=0))
    ),
    "oversampling + augmentation": pipeline(
        sampler_before_resize=AugmentedOverSampler(random_state=0), augment="study"
    ),
    "SMOTE": pipeline(
        sampler_after_resize=ParticleSampler(SMOTE(k_neighbors=3, random_state=0))
    ),
    "class weights": pipeline(class_weight="balanced"),
    "per-epoch undersampling": pipeline(undersample_majority=0.2),
}

cv = StratifiedKFold(N_SPLITS, shuffle=True, random_state=0)
names = data.target_names.tolist()
print(f"{len(X)} particles, class counts {dict(zip(names, np.bincount(y).tolist()))}")
print(f"{'technique':<28}" + "".join(f"{name:>15}" for name in names))
for technique, estimator in techniques.items():
    predicted = cross_val_predict(estimator, X, y, cv=cv)
    recall = recall_score(y, predicted, average=None, labels=range(len(names)))
    print(f"{technique:<28}" + "".join(f"{r:>15.2f}" for r in recall))
