"""Options shared by several ``sklipo`` commands: data, models, runs, cut-outs, micrographs."""

# License: BSD 3 clause

from sklipo.cli._common import _CUTOUT_OPTIONS, _PROBLEMS
from sklipo.cli._types import _at_least, _diameter_range, _positive, _unit_interval

__all__ = []


def _add_cutout_arguments(parser, *, training):
    """How particles are cut out of micrographs: for 'train' on a YOLO folder, and 'predict'."""
    if training:
        defaults = {"surrounding": 10, "polarity": "auto", "channel": None, "sigma": 1.0}
        note = " (default: auto; for a YOLO --data folder of annotated micrographs)"
    else:
        defaults = dict.fromkeys(_CUTOUT_OPTIONS)
        note = " (default: as recorded in the model card at training)"
    parser.add_argument(
        "--surrounding", type=_at_least(0), default=defaults["surrounding"],
        help="pixels cut out around each box" + (" (default: 10)" if training else note),
    )
    parser.add_argument(
        "--polarity", choices=["auto", "dark", "bright"], default=defaults["polarity"],
        help="particles darker (TEM) or brighter (fluorescence) than the background, for "
        "segmenting them" + note,
    )
    parser.add_argument(
        "--channel", type=int, default=defaults["channel"],
        help="segment on this channel" + (" (default: every channel)" if training else note),
    )
    parser.add_argument(
        "--sigma", type=_positive, default=defaults["sigma"],
        help="smoothing in px before segmenting" + (" (default: 1)" if training else note),
    )
    if training:
        parser.add_argument(
            "--classes",
            help="class names of a YOLO --data folder, comma-separated or a file "
            "(default: DATA/classes.txt)",
        )


def _add_micrograph_arguments(parser):
    """'sklipo predict' on whole micrographs: finding the particles, overlays."""
    parser.add_argument(
        "--micrographs", action="store_true",
        help="DIR holds whole micrographs: find the particles, cut them out as in training, "
        "classify each (default when DIR has images/ and labels/ or --boxes is given)",
    )
    parser.add_argument(
        "--boxes", metavar="LABELS",
        help="a detector's YOLO label folder (class cx cy w h [confidence] per line) to "
        "use instead of finding the particles",
    )
    parser.add_argument(
        "--min-confidence", type=_unit_interval, default=None,
        help="drop detector boxes below this confidence (default: keep all)",
    )
    parser.add_argument(
        "--diameter-range", type=_diameter_range, default=None, metavar="LOW,HIGH",
        help="particle diameters to search, nm with --pixel-size, else px (default: the "
        "training boxes' range, widened by 30%%)",
    )
    parser.add_argument(
        "--threshold", type=_positive, default=4.0,
        help="how far particles stand out of the background, in noise units (default: 4)",
    )
    parser.add_argument(
        "--overlays", metavar="DIR",
        help="folder for one overlay PNG per micrograph (default: next to --out, "
        "<out>_overlays/; none when printing)",
    )


def _add_data_arguments(parser):
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        metavar="DIR",
        help="labelled particles: one sub-folder per class, or a manifest.csv "
        "(see sklipo.datasets.load_particles)",
    )
    source.add_argument(
        "--synthetic",
        "--problem",
        choices=_PROBLEMS,
        default="lamellarity",
        help="use the embedded synthetic liposomes of this problem (the default without "
        "--data: lamellarity)",
    )
    parser.add_argument(
        "--n-samples",
        type=_at_least(1),
        default=1000,
        help="synthetic particles (default: 1000; the study's full size is 14169 for "
        "lamellarity, 24918 for encapsulation)",
    )
    parser.add_argument(
        "--balanced",
        action="store_true",
        help="synthetic classes in equal numbers (default: the study's imbalance)",
    )
    parser.add_argument(
        "--no-masks",
        action="store_true",
        help="images have no mask files: use whole images (default: read <name>_mask files)",
    )
    parser.add_argument(
        "--pixel-size",
        type=_positive,
        default=None,
        help="nm per pixel of every image (default: from the manifest or the file headers)",
    )


def _add_run_arguments(parser, *, verbose=True):
    """--threads, and --verbose for the commands that train networks."""
    parser.add_argument(
        "--threads",
        type=_at_least(1),
        default=None,
        metavar="N",
        help="threads per process for torch, BLAS and joblib's workers (default: what "
        "torch picks, one per core); on a busy machine 1 can be fastest",
    )
    if verbose:
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="print skorch's table of losses for every epoch of every network "
            "(default: a progress bar on a terminal, one line per step otherwise)",
        )


def _add_model_arguments(parser):
    parser.add_argument(
        "--epochs",
        type=_at_least(1),
        default=10,
        help="training epochs of the networks (default: 10; the study's full runs: 30)",
    )
    parser.add_argument(
        "--size",
        type=_at_least(1),
        default=28,
        help="network input size in pixels (default: 28, the study's LipNet-4 input)",
    )
    parser.add_argument(
        "--input-mode",
        choices=["masked", "cropped", "surrounding"],
        default="masked",
        help="crop to the particle and mask it (default), crop only, or keep the surrounding",
    )
    parser.add_argument(
        "--probability",
        action="store_true",
        help="let the SVM estimate probabilities (Platt scaling, 5x slower; default: off)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the synthetic data, the folds and the networks (default: 0)",
    )
