"""New micrographs without boxes: find, cut out and classify every particle
=========================================================================

The whole path of a lab that has annotated some micrographs and wants to
classify the particles of new ones, which come without boxes.
:func:`~sklipo.datasets.make_micrographs` draws two-colour fluorescence
micrographs (classes full, partial and empty; clusters of touching
liposomes, debris). The annotated ones are written as an annotation tool
exports them (:func:`~sklipo.datasets.write_yolo`) and ``sklipo train``
learns from their particles, recording in the model card how the particles
were cut out. ``sklipo predict --micrographs`` then finds the particles of
the new micrographs (:class:`~sklipo.detection.ParticleFinder`), cuts them
out the same way, classifies each and writes one CSV row per particle and an
overlay per micrograph.

The new micrographs' true boxes, which a lab would not have, tell how good
the result is: the detection F1 at box IoU 0.5
(:func:`~sklipo.metrics.detection_scores`), and the classification of the
particles found against that of the same model on the true boxes.
``--smoke`` runs a tiny check.
"""

import csv
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from sklipo.cli import main as sklipo
from sklipo.datasets import make_micrographs, write_image, write_yolo
from sklipo.metrics import detection_scores, match_boxes

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import parse_args  # noqa: E402


def _read_rows(path):
    """The rows of a predict CSV, grouped by micrograph: boxes and labels."""
    found = {}
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            boxes, labels = found.setdefault(row["micrograph"], ([], []))
            boxes.append([int(row[k]) for k in ("top", "left", "bottom", "right")])
            labels.append(row["label"])
    return found


def main(argv=None):
    args = parse_args(__doc__, argv)
    prefix = (args.plot or "detection.png").removesuffix(".png")
    # About 12 particles per micrograph; --n-samples sets the training particles.
    n_train = max(3, args.n_samples // 12)
    n_new = 2 if args.smoke else 8
    shape = (192, 192) if args.smoke else (384, 384)
    data = make_micrographs(
        "fluorescence", n_train + n_new, shape=shape, n_particles=(8, 16),
        weights=[1, 1, 1], clustering=0.5, random_state=0,
    )
    model_args = ["--model", "logistic"] if args.smoke else [
        "--model", "lipnet4", "--epochs", str(args.epochs)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. Annotated micrographs, as an annotation tool exports them.
        annotated = write_yolo(tmp / "annotated", data.images[:n_train], data.labels[:n_train],
                               data.target_names, image_format="tif")
        # 2. Train; the card records the cut-out settings (--surrounding ...).
        model = tmp / "model.joblib"
        sklipo(["train", "--data", str(annotated), *model_args, "--surrounding", "8",
                "--out", str(model)])
        # 3. New micrographs: image files only, no boxes.
        new = tmp / "new"
        new.mkdir()
        names = [f"new-{m:02d}.tif" for m in range(n_new)]
        for name, image in zip(names, data.images[n_train:]):
            write_image(new / Path(name).stem, image)  # writes <stem>.tif
        # 4. One row per particle found, and an overlay per micrograph.
        sklipo(["predict", str(model), str(new), "--micrographs", "--out",
                str(tmp / "particles.csv"), "--overlays", str(tmp / "overlays")])
        found = _read_rows(tmp / "particles.csv")
        shutil.copy(tmp / "overlays" / "new-00.png", f"{prefix}_overlay.png")
        print(f"wrote {prefix}_overlay.png")
        # The same model on the true boxes, for comparison (YOLO labels as boxes).
        truth = write_yolo(tmp / "truth", data.images[n_train:], data.labels[n_train:],
                           data.target_names, image_format="tif")
        sklipo(["predict", str(model), str(truth), "--out", str(tmp / "true_boxes.csv")])
        on_true = _read_rows(tmp / "true_boxes.csv")

    # 5. How good: detection F1, then classification of found vs true boxes.
    true_boxes = data.boxes[n_train:]
    true_labels = [data.target_names[t] for t in data.targets[n_train:]]
    found_boxes = [np.array(found.get(n, ([], []))[0]).reshape(-1, 4) for n in names]
    scores = detection_scores(true_boxes, found_boxes, iou_threshold=0.5)
    print(f"detection F1 {scores.f1:.3f} (precision {scores.precision:.3f}, recall "
          f"{scores.recall:.3f}) at box IoU 0.5: {scores.n_pred} particles found, "
          f"{scores.n_true} true")
    y_found, p_found = [], []
    for m, name in enumerate(names):
        labels = np.array(found.get(name, ([], []))[1])
        t, p, _ = match_boxes(true_boxes[m], found_boxes[m])
        y_found.extend(true_labels[m][t])
        p_found.extend(labels[p])
    y_true = np.concatenate(true_labels)
    p_true = np.concatenate([on_true[f"micrograph-{m:03d}.tif"][1] for m in range(n_new)])
    print(f"balanced accuracy: {balanced_accuracy_score(y_found, p_found):.3f} on the "
          f"{len(y_found)} particles found (matched to a true box), "
          f"{balanced_accuracy_score(y_true, p_true):.3f} on the {len(y_true)} true boxes")
    return scores


if __name__ == "__main__":
    main()
