"""Architectures (the study's Figs. 18 and 19)
===========================================

LipNet-1, -2, -4 and -6 on both problems, the same folds for every network.
Prints each problem's per-class table and saves one F1 bar chart per problem
(``<plot>_lamellarity.png``, ``<plot>_encapsulation.png``). ``--smoke`` runs
a tiny check.

The output below comes from the documentation's small run (``--gallery``:
510 particles at the study's class proportions, 2 epochs, 3 folds). The
full run is ``python examples/plot_architectures.py`` (1500 particles, 10 epochs, 5
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
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import load, parse_args  # noqa: E402

ARCHITECTURES = ("lipnet1", "lipnet2", "lipnet4", "lipnet6")


def main(argv=None):
    args = parse_args(__doc__, argv)
    prefix = (args.plot or "architectures.png").removesuffix(".png")
    results = {}
    for problem in ("lamellarity", "encapsulation"):
        data = load(problem, args)
        models = {
            name: make_pipeline(
                CropParticle("masked"),
                IntensityNormalizer("quantile"),
                Resize(28),
                LipNetClassifier(
                    name, max_epochs=args.epochs, balanced_batches=True, random_state=0
                ),
            )
            for name in ARCHITECTURES
        }
        result = compare(models, data.data, data.target, cv=args.cv, target_names=data.target_names)
        print(f"\n== {problem} ==\n{result.table(['tpr', 'ppv', 'f1'])}")
        display = result.plot("f1", title=f"{problem}: F1 per architecture")
        display.figure_.savefig(f"{prefix}_{problem}.png", bbox_inches="tight")
        plt.close(display.figure_)
        results[problem] = result
    return results


if __name__ == "__main__":
    main()
