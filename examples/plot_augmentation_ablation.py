"""Augmentation ablation (the study's Fig. 17)
===========================================

LipNet-4 on the lamellarity problem, trained with and without the study's
on-the-fly augmentation (flips, rotations, shifts, contrast), compared on the
same cross-validation folds. Prints the per-class table and saves the F1 bar
chart. Run ``python examples/plot_augmentation_ablation.py --smoke`` for a
seconds-long check, without ``--smoke`` for the real comparison.

The output below comes from the documentation's small run (``--gallery``:
510 particles at the study's class proportions, 2 epochs, 3 folds). The
full run is ``python examples/plot_augmentation_ablation.py`` (1500 particles, 10 epochs, 5
folds); add ``--n-samples 14169 --epochs 30`` for the study's size.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklipo.classifier import LipNetClassifier  # noqa: E402
from sklipo.compare import compare  # noqa: E402
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import load, parse_args  # noqa: E402


def main(argv=None):
    args = parse_args(__doc__, argv)
    data = load("lamellarity", args)

    def lipnet4(augment):
        net = LipNetClassifier(
            "lipnet4", max_epochs=args.epochs, augment=augment, balanced_batches=True,
            random_state=0,
        )
        return make_pipeline(CropParticle("masked"), IntensityNormalizer("quantile"), Resize(28), net)

    models = {"no augmentation": lipnet4(None), "study augmentation": lipnet4("study")}
    result = compare(models, data.data, data.target, cv=args.cv, target_names=data.target_names)
    print(result.table())
    display = result.plot("f1", title="LipNet-4, lamellarity: augmentation")
    display.figure_.savefig(args.plot or "augmentation_ablation.png", bbox_inches="tight")
    return result


if __name__ == "__main__":
    main()
