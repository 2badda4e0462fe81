"""Annotated fluorescence micrographs: read, segment, check the masks, train
=========================================================================

The path a lab's own data takes. :func:`~sklipo.datasets.make_micrographs`
draws two-colour fluorescence micrographs (membrane ring in red, cargo in
green; classes full, partial and empty; clusters of touching liposomes,
debris, JPEG compression), :func:`~sklipo.datasets.write_yolo` writes them as
an annotation tool exports them (JPEG images, YOLO label files,
``classes.txt``), and :func:`~sklipo.datasets.load_annotated_micrographs`
reads them back, cutting out and segmenting every particle. The mask grid
(``<plot>_masks.png``) shows the masks before any training, fallbacks in red;
then LipNet-4 is trained on the cut-outs (cropped, masked, 28x28) and
evaluated on held-out micrographs. ``--smoke`` runs a tiny check.
"""

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import classification_report  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklipo.classifier import LipNetClassifier  # noqa: E402
from sklipo.datasets import (  # noqa: E402
    MaskGridDisplay,
    load_annotated_micrographs,
    make_micrographs,
    write_yolo,
)
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize  # noqa: E402

# this script's folder; sys.argv[0] because sphinx-gallery runs it without __file__
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
from _common import parse_args  # noqa: E402


def main(argv=None):
    args = parse_args(__doc__, argv)
    prefix = (args.plot or "micrographs.png").removesuffix(".png")
    # About 12 particles per micrograph; --n-samples sets the particle count.
    n_micrographs = max(4, args.n_samples // 12)
    data = make_micrographs(
        "fluorescence", n_micrographs, shape=(256, 256), n_particles=(8, 16),
        weights=[1, 1, 1], jpeg_quality=85, box_jitter=0.05, random_state=0,
    )
    with tempfile.TemporaryDirectory() as folder:
        folder = write_yolo(folder, data.images, data.labels, data.target_names,
                            image_format="jpg")
        particles = load_annotated_micrographs(
            folder / "images", folder / "labels", folder / "classes.txt", surrounding=8
        )
    X, y = particles.data, particles.target_names[particles.target]
    print(f"{len(X)} particles from {n_micrographs} JPEG micrographs, "
          f"{X.n_channels} channels; {int(particles.mask_fallback.sum())} mask fallback(s)")

    display = MaskGridDisplay.from_bunch(particles, max_particles=36)
    display.figure_.savefig(f"{prefix}_masks.png", bbox_inches="tight")
    plt.close(display.figure_)
    print(f"wrote {prefix}_masks.png")

    # Hold out whole micrographs: particles of one micrograph share its
    # background, noise and compression.
    files = np.unique(particles.filenames)
    test = np.isin(particles.filenames, files[: max(1, len(files) // 4)])
    model = make_pipeline(
        CropParticle("masked"),
        IntensityNormalizer("quantile"),
        Resize(28),
        LipNetClassifier("lipnet4", max_epochs=args.epochs, balanced_batches=True,
                         random_state=0),
    ).fit(X[~test], y[~test])
    print(f"LipNet-4 trained on {int((~test).sum())} particles, tested on {int(test.sum())}:")
    print(classification_report(y[test], model.predict(X[test]),
                                labels=data.target_names, zero_division=0))
    return model


if __name__ == "__main__":
    main()
