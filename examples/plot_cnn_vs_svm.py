"""Best CNN against the SVM baseline (the study's Fig. 22)
=======================================================

LipNet-4 (lamellarity) and LipNet-2 (encapsulation) on cropped, masked and
augmented particles, against the handcrafted-feature RBF SVM, on the same
folds. Prints the tables with a paired test of macro F1, saves the F1 bar
charts and the row-normalised confusion matrices. ``--smoke`` runs a tiny
check.

The output below comes from the documentation's small run (``--gallery``:
510 particles at the study's class proportions, 2 epochs, 3 folds). The
full run is ``python examples/plot_cnn_vs_svm.py`` (1500 particles, 10 epochs, 5
folds); add ``--n-samples 14169 --epochs 30`` for the study's size.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklipo.classifier import LipNetClassifier  # noqa: E402
from sklipo.compare import compare  # noqa: E402
from sklipo.features import make_svm_baseline  # noqa: E402
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import load, parse_args  # noqa: E402

BEST_CNN = {"lamellarity": "lipnet4", "encapsulation": "lipnet2"}


def main(argv=None):
    args = parse_args(__doc__, argv)
    prefix = (args.plot or "cnn_vs_svm.png").removesuffix(".png")
    results = {}
    for problem, architecture in BEST_CNN.items():
        data = load(problem, args)
        cnn = make_pipeline(
            CropParticle("masked"),
            IntensityNormalizer("quantile"),
            Resize(28),
            LipNetClassifier(
                architecture, max_epochs=args.epochs, balanced_batches=True, random_state=0
            ),
        )
        models = {architecture: cnn, "svm": make_svm_baseline()}
        result = compare(models, data.data, data.target, cv=args.cv, target_names=data.target_names)
        test = result.paired_test(architecture, "svm")
        print(f"\n== {problem} ==\n{result.table()}")
        print(
            f"{architecture} - svm, macro F1: {test.mean_difference:+.3f} "
            f"(wins {test.wins}/{test.n_folds}, p = {test.p_value:.3f})"
        )
        display = result.plot("f1", title=f"{problem}: CNN vs SVM")
        display.figure_.savefig(f"{prefix}_{problem}.png", bbox_inches="tight")
        figure = result.plot_confusion_matrices(normalize="true")
        figure.savefig(f"{prefix}_{problem}_confusion.png", bbox_inches="tight")
        plt.close("all")
        results[problem] = result
    return results


if __name__ == "__main__":
    main()
