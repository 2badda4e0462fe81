"""Input modes: with surrounding, cropped, cropped and masked (the study's Figs. 20 and 21)
========================================================================================

LipNet-4 on both problems, fed the particle with its 50-pixel surrounding,
cropped to its bounding box, or cropped with the background outside its mask
blanked. Prints the tables and saves one F1 bar chart per problem. ``--smoke``
runs a tiny check.

The output below comes from the documentation's small run (``--gallery``:
510 particles at the study's class proportions, 2 epochs, 3 folds). The
full run is ``python examples/plot_input_modes.py`` (1500 particles, 10 epochs, 5
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

MODES = ("surrounding", "cropped", "masked")


def main(argv=None):
    args = parse_args(__doc__, argv)
    prefix = (args.plot or "input_modes.png").removesuffix(".png")
    results = {}
    for problem in ("encapsulation", "lamellarity"):
        data = load(problem, args)
        models = {
            mode: make_pipeline(
                CropParticle(mode),
                IntensityNormalizer("quantile"),
                Resize(28),
                LipNetClassifier(
                    "lipnet4", max_epochs=args.epochs, balanced_batches=True, random_state=0
                ),
            )
            for mode in MODES
        }
        result = compare(models, data.data, data.target, cv=args.cv, target_names=data.target_names)
        print(f"\n== {problem} ==\n{result.table(['tpr', 'ppv', 'f1'])}")
        display = result.plot("f1", title=f"{problem}: LipNet-4 by input mode")
        display.figure_.savefig(f"{prefix}_{problem}.png", bbox_inches="tight")
        plt.close(display.figure_)
        results[problem] = result
    return results


if __name__ == "__main__":
    main()
