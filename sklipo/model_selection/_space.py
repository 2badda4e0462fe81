"""The recipes a search tries: one pipeline shape, one parameter grid per family."""

# License: BSD 3 clause

import numpy as np
from imblearn.pipeline import Pipeline
from scipy.stats import loguniform
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from sklipo.augmentation import Augmentation
from sklipo.classifier import LipNetClassifier
from sklipo.features import make_svm_baseline
from sklipo.nets import ARCHITECTURES
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize
from sklipo.sampling import AugmentedOverSampler

__all__ = ["FAMILIES", "IMBALANCE_TREATMENTS", "recipe_anchors", "recipe_pipeline", "recipe_space"]

#: The model families a search can try.
FAMILIES = ("lipnet", "lipnet_fcn", "svm", "ensemble")

#: The imbalance treatments of the LipNet families.
IMBALANCE_TREATMENTS = (
    "none",
    "class_weight",
    "balanced_batches",
    "oversampling",
    "undersampling",
    "logit_adjusted",
    "post_hoc",
)

# what a search tries by default: the fixed-size LipNets, their image sizes, epochs
_ARCHITECTURES = tuple(name for name in ARCHITECTURES if name != "lipnet_fcn")
_IMAGE_SIZES = (28, 48, 64)
_EPOCHS = (15, 30, 60)

_PASS = ["passthrough"]


def recipe_pipeline(*, device="cpu", random_state=None):
    """The pipeline every candidate of a search is a setting of.

    Steps ``"crop"`` (:class:`~sklipo.preprocessing.CropParticle`),
    ``"normalize"`` (:class:`~sklipo.preprocessing.IntensityNormalizer`),
    ``"resize"`` (:class:`~sklipo.preprocessing.Resize`), ``"sampler"``
    (``"passthrough"`` or a sampler, run at fit only) and ``"clf"`` (a
    :class:`~sklipo.classifier.LipNetClassifier`, or the SVM baseline or an
    ensemble, which then take the particles with ``"passthrough"`` before
    them). As it is, the study's recipe: masked, 28x28, LipNet-4, 30 epochs.

    Parameters
    ----------
    device : str, default="cpu"
        The networks' device.
    random_state : int or None, default=None
        Seed of the network and the samplers.

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline
    """
    return Pipeline(
        [
            ("crop", CropParticle("masked")),
            ("normalize", IntensityNormalizer()),
            ("resize", Resize(28)),
            ("sampler", "passthrough"),
            ("clf", LipNetClassifier(device=device, random_state=random_state)),
        ]
    )


def _treatment(name, random_state):
    """The parameters of one imbalance treatment."""
    return {
        "none": {},
        "class_weight": {"clf__class_weight": ["balanced"]},
        "balanced_batches": {"clf__balanced_batches": [True]},
        "oversampling": {"sampler": [AugmentedOverSampler(random_state=random_state)]},
        "undersampling": {"clf__undersample_majority": [0.2, 0.5]},
        # tau = 1 is the balanced softmax
        "logit_adjusted": {"clf__loss": ["logit_adjusted"], "clf__loss_tau": [0.5, 1.0, 2.0]},
        # smoothing caps the logit gaps that a large adjustment would overturn
        "post_hoc": {"clf__logit_adjustment": [0.5, 1.0], "clf__label_smoothing": [0.0]},
    }[name]


def _normalizers():
    return [
        IntensityNormalizer(),
        IntensityNormalizer("quantile"),
        IntensityNormalizer("quantile", per_image=False),
    ]


def _augmentations():
    mild = Augmentation(rotation=180.0, shear=0.05, shift=0.05, zoom=(0.9, 1.0))
    return ["study", mild, None]


def _network_choices(epochs, resource):
    choices = {
        "clf__lr": loguniform(5e-4, 5e-3),
        "clf__augment": _augmentations(),
        "clf__tta": [None, "dihedral"],
    }
    if resource == "n_samples":
        choices["clf__max_epochs"] = list(epochs)
    return choices


def _lipnet_grids(architectures, sizes, epochs, imbalance, resource, random_state):
    common = {
        "crop__mode": ["masked", "cropped", "surrounding"],
        "normalize": _normalizers(),
        "resize__size": list(sizes),
        "clf__architecture": list(architectures),
        **_network_choices(epochs, resource),
    }
    return [{**common, **_treatment(name, random_state)} for name in imbalance]


def _fcn_grids(epochs, imbalance, resource, random_state):
    # the fully convolutional net sees each particle at its own size: no
    # resize, and no whole cut-outs with their wide surrounding (slow)
    common = {
        "crop": [CropParticle("masked"), CropParticle("cropped", margin=4)],
        "normalize": _normalizers(),
        "resize": _PASS,
        "clf__architecture": ["lipnet_fcn"],
        **_network_choices(epochs, resource),
    }
    treatments = [name for name in imbalance if name in ("balanced_batches", "logit_adjusted")]
    return [{**common, **_treatment(name, random_state)} for name in treatments or imbalance[:1]]


def _on_particles(clf_choices):
    """A grid whose classifier takes the particles as they come."""
    return {"crop": _PASS, "normalize": _PASS, "resize": _PASS, "sampler": _PASS, **clf_choices}


def _ensembles(device, random_state):
    cnn = recipe_pipeline(device=device, random_state=random_state)
    cnn.set_params(clf__balanced_batches=True)
    svm = make_svm_baseline(probability=True)
    members = [("cnn", cnn), ("svm", svm)]
    stacker = LogisticRegression(class_weight="balanced", max_iter=1000)
    return [
        VotingClassifier(members, voting="soft"),
        StackingClassifier(members, final_estimator=stacker, cv=3),
    ]


def recipe_space(
    *,
    families=FAMILIES,
    architectures=_ARCHITECTURES,
    image_sizes=_IMAGE_SIZES,
    epochs=_EPOCHS,
    imbalance=IMBALANCE_TREATMENTS,
    resource="n_samples",
    device="cpu",
    random_state=None,
):
    """The parameter grids of a search over :func:`recipe_pipeline`.

    One grid per model family and imbalance treatment; a random search
    draws a grid uniformly, then a value of each of its parameters (the
    learning rate and the SVM's ``C`` are continuous, log-uniform, which
    makes scikit-learn draw grids uniformly rather than grid points), so the
    families get candidates in proportion to their grids: the fixed-size
    LipNets one per treatment, the fully convolutional one two, the SVM
    one, the ensembles one.

    Parameters
    ----------
    families : sequence of {"lipnet", "lipnet_fcn", "svm", "ensemble"}
        The families to try.
    architectures : sequence of str
        The fixed-size LipNets to try.
    image_sizes : sequence of int
        The sizes the fixed-size LipNets see.
    epochs : sequence of int
        The epoch counts to try (with ``resource="n_samples"``).
    imbalance : sequence of str
        The treatments of class imbalance, from :data:`IMBALANCE_TREATMENTS`.
    resource : {"n_samples", "epochs"}
        The successive-halving resource; with ``"epochs"`` the epoch count is
        the resource, not searched, and only the LipNet families can be
        tried.
    device : str, default="cpu"
        The networks' device.
    random_state : int or None, default=None
        Seed of the samplers and ensembles' members.

    Returns
    -------
    param_distributions : list of dict
    """
    unknown = sorted(set(families) - set(FAMILIES)) + sorted(
        set(imbalance) - set(IMBALANCE_TREATMENTS)
    )
    if unknown or not families or not imbalance:
        raise ValueError(
            f"families must be taken from {list(FAMILIES)} and imbalance from "
            f"{list(IMBALANCE_TREATMENTS)}, at least one of each; got unknown {unknown}."
        )
    if resource == "epochs" and set(families) & {"svm", "ensemble"}:
        raise ValueError(
            "resource='epochs' halves over the networks' epochs, which the SVM and the "
            "ensembles do not have; use resource='n_samples' or "
            "families=('lipnet', 'lipnet_fcn')."
        )
    grids = []
    if "lipnet" in families:
        grids += _lipnet_grids(architectures, image_sizes, epochs, imbalance, resource, random_state)
    if "lipnet_fcn" in families:
        grids += _fcn_grids(epochs, list(imbalance), resource, random_state)
    if "svm" in families:
        grids.append(
            _on_particles(
                {
                    "clf": [make_svm_baseline(probability=True)],
                    "clf__svm__estimator__C": loguniform(1.0, 100.0),
                }
            )
        )
    if "ensemble" in families:
        grids.append(
            _on_particles(
                {
                    "clf": _ensembles(device, random_state),
                    "clf__cnn__crop__mode": ["masked", "cropped", "surrounding"],
                    "clf__cnn__clf__loss": ["cross_entropy", "logit_adjusted"],
                }
            )
        )
    return grids


def _seed_ensemble(settings, seeds, device):
    """A soft vote of recipe pipelines that differ only in their seed."""
    members = [
        (f"seed{i}", recipe_pipeline(device=device, random_state=seed).set_params(**settings))
        for i, seed in enumerate(seeds)
    ]
    return VotingClassifier(members, voting="soft")


def recipe_anchors(
    *,
    families=FAMILIES,
    architectures=_ARCHITECTURES,
    image_sizes=_IMAGE_SIZES,
    epochs=_EPOCHS,
    imbalance=IMBALANCE_TREATMENTS,
    resource="n_samples",
    n_seeds=3,
    device="cpu",
    random_state=None,
):
    """Known good recipes that a search always tries first.

    A LipNet (LipNet-4 where it is among `architectures`) on 28x28 images
    (or the smallest of `image_sizes`), quantile-normalised per image, with
    balanced batches and 30 epochs (or the most of `epochs`), shown masked,
    cropped and with its surrounding; each as a soft vote of `n_seeds` such
    networks trained from different seeds (a deep ensemble: on 750
    liposomes, three seeds scored about 0.03 balanced accuracy above one
    network), and the SVM baseline. Each is left out when the search's
    choices exclude it (``"balanced_batches"`` not in `imbalance`,
    ``"lipnet"`` or ``"svm"`` not in `families`). The same for every data
    set: the search still has to find out which is best, and whether a drawn
    candidate beats them.

    Parameters
    ----------
    families, architectures, image_sizes, epochs, imbalance, resource
        As for :func:`recipe_space`.
    n_seeds : int, default=3
        Networks per LipNet anchor; 1 gives single networks. With
        ``resource="epochs"`` the anchors are single networks (the search
        sets their epochs).
    device : str, default="cpu"
        The networks' device.
    random_state : int, RandomState instance or None, default=None
        Draws the seeds of the networks of an ensemble anchor.

    Returns
    -------
    anchors : list of dict
        Candidate settings of :func:`recipe_pipeline`.
    """
    anchors = []
    if "lipnet" in families and "balanced_batches" in imbalance:
        network = {
            "normalize": IntensityNormalizer("quantile"),
            "resize__size": 28 if 28 in image_sizes else min(image_sizes),
            "clf__architecture": "lipnet4" if "lipnet4" in architectures else architectures[0],
            "clf__balanced_batches": True,
        }
        if resource == "n_samples":
            network["clf__max_epochs"] = 30 if 30 in epochs else max(epochs)
        modes = ("masked", "cropped", "surrounding")
        networks = [{**network, "crop__mode": mode} for mode in modes]
        if resource == "n_samples" and n_seeds > 1:
            rng = None if random_state is None else check_random_state(random_state)
            networks = [
                _particles_anchor(_seed_ensemble(settings, _seeds(rng, n_seeds), device))
                for settings in networks
            ]
        anchors += networks
    if "svm" in families:
        anchors.append(_particles_anchor(make_svm_baseline(probability=True)))
    return anchors


def _seeds(rng, n_seeds):
    """`n_seeds` seeds drawn from `rng`, or None each without one."""
    if rng is None:
        return [None] * n_seeds
    return rng.randint(np.iinfo(np.int32).max, size=n_seeds).tolist()


def _particles_anchor(clf):
    """The settings of one candidate whose classifier takes the particles as they come."""
    return {key: value[0] for key, value in _on_particles({}).items()} | {"clf": clf}
