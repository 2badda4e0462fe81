"""What a LipNet learned: kernels, feature maps and attribution maps
=================================================================

Trains LipNet-4 on the synthetic lamellarity problem (cropped, masked, 28x28,
balanced batches), reports its held-out accuracy per class and its conv
layers (conv1 ... conv4), then plots the kernels of conv1
(``<plot>_kernels.png``), every conv layer's feature maps for one
multilamellar particle (``<plot>_feature_maps.png``), and saliency, guided
backprop and deconvnet maps side by side for one held-out particle of each
class, each explained for its true class (``<plot>_attribution.png``).
``--smoke`` runs a tiny check.

The output below comes from the documentation's small run (``--gallery``:
510 particles at the study's class proportions, 2 epochs). The
full run is ``python examples/plot_inspection.py`` (1500 particles, 10
epochs); add ``--n-samples 14169 --epochs 30`` for the study's size.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import classification_report  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklipo.classifier import LipNetClassifier  # noqa: E402
from sklipo.inspection import (  # noqa: E402
    AttributionDisplay,
    FeatureMapDisplay,
    KernelDisplay,
    conv_layers,
)
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import load, parse_args  # noqa: E402


def _save(display, path):
    display.figure_.savefig(path, bbox_inches="tight")
    plt.close(display.figure_)
    print(f"wrote {path}")


def main(argv=None):
    args = parse_args(__doc__, argv)
    prefix = (args.plot or "inspection.png").removesuffix(".png")
    data = load("lamellarity", args)
    labels = data.target_names[data.target]
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, labels, test_size=0.25, stratify=labels, random_state=0
    )
    model = make_pipeline(
        CropParticle("masked"),
        IntensityNormalizer("quantile"),
        Resize(28),
        LipNetClassifier(
            "lipnet4", max_epochs=args.epochs, balanced_batches=True, random_state=0
        ),
    ).fit(X_train, y_train)
    print(f"LipNet-4 trained on {len(X_train)} particles, tested on {len(X_test)}:")
    print(
        classification_report(
            y_test, model.predict(X_test), labels=data.target_names, zero_division=0
        )
    )

    print(f"conv layers: {', '.join(conv_layers(model))}")
    _save(KernelDisplay.from_estimator(model, layer="conv1"), f"{prefix}_kernels.png")
    multilamellar = np.flatnonzero(y_test == "multilamellar")[0]
    _save(
        FeatureMapDisplay.from_estimator(model, X_test[[multilamellar]]),
        f"{prefix}_feature_maps.png",
    )
    # one held-out particle per class, each explained for its own (true) class:
    # the row titles say "target: <class> (p = ...)", the probability of that class
    rows = [np.flatnonzero(y_test == name)[0] for name in data.target_names]
    _save(
        AttributionDisplay.from_estimator(model, X_test[rows], target=y_test[rows]),
        f"{prefix}_attribution.png",
    )
    return model


if __name__ == "__main__":
    main()
