"""Hybrid models: learned and handcrafted features together (lamellarity)
======================================================================

Four models on the same folds: the handcrafted-feature SVM, LipNet-4, the
SVM on handcrafted features plus LipNet-4's learned ones (a FeatureUnion with
LipNetEmbedding, the network trained inside each training fold), and the
two-branch LipNet-4 whose final layer also sees the handcrafted features.
Prints the per-class table and paired tests of macro F1 against the SVM,
and saves the F1 bar chart. ``--smoke`` runs a tiny check.

The output below comes from the documentation's small run (``--gallery``:
510 particles at the study's class proportions, 2 epochs, 3 folds). The
full run is ``python examples/plot_hybrid.py`` (1500 particles, 10 epochs, 5
folds); add ``--n-samples 14169 --epochs 30`` for the study's size.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.pipeline import FeatureUnion, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from sklipo.classifier import LipNetClassifier, LipNetEmbedding  # noqa: E402
from sklipo.compare import compare  # noqa: E402
from sklipo.features import ParticleFeatures, make_svm_baseline  # noqa: E402
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import load, parse_args  # noqa: E402


def _images():
    """Cropped, masked, normalised particles at the study's LipNet-4 size."""
    return make_pipeline(CropParticle("masked"), IntensityNormalizer("quantile"), Resize(28))


def _lipnet4(args, **params):
    return LipNetClassifier(
        "lipnet4", max_epochs=args.epochs, balanced_batches=True, random_state=0, **params
    )


def main(argv=None):
    args = parse_args(__doc__, argv)
    data = load("lamellarity", args)
    models = {
        "svm": make_svm_baseline(),
        "lipnet4": make_pipeline(_images(), _lipnet4(args)),
        "svm+embedding": make_pipeline(
            FeatureUnion(
                [
                    ("hand", ParticleFeatures()),
                    ("cnn", LipNetEmbedding(make_pipeline(_images(), _lipnet4(args)))),
                ]
            ),
            StandardScaler(),
            SVC(class_weight="balanced"),
        ),
        "two-branch": _lipnet4(args, image_transformer=_images(), extra_features=ParticleFeatures()),
    }
    result = compare(models, data.data, data.target, cv=args.cv, target_names=data.target_names)
    print(result.table(["tpr", "ppv", "f1"]))
    for name in ("lipnet4", "svm+embedding", "two-branch"):
        test = result.paired_test(name, "svm")
        print(
            f"{name} - svm, macro F1: {test.mean_difference:+.3f} "
            f"(wins {test.wins}/{test.n_folds}, p = {test.p_value:.3f})"
        )
    display = result.plot("f1", title="lamellarity: SVM, LipNet-4 and the hybrids")
    display.figure_.savefig(args.plot or "hybrid.png", bbox_inches="tight")
    plt.close(display.figure_)
    return result


if __name__ == "__main__":
    main()
