"""LipNetEmbedding: a LipNet's learned features as a transformer."""

# License: BSD 3 clause

from copy import deepcopy

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from sklipo.classifier._lipnet_classifier import LipNetClassifier
from sklipo.classifier._steps import split_lipnet, transform_before
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize

__all__ = ["LipNetEmbedding"]


def _default_estimator():
    """The study's best network for lamellarity on cropped, masked particles."""
    return make_pipeline(
        CropParticle("masked"),
        IntensityNormalizer("quantile"),
        Resize(28),
        LipNetClassifier("lipnet4", balanced_batches=True),
    )


class LipNetEmbedding(TransformerMixin, BaseEstimator):
    """A LipNet's penultimate activations as features for another estimator.

    The study's idea of letting features a CNN learned aid the SVM: this
    transformer trains a :class:`LipNetClassifier` (or takes a trained one)
    and returns, for each particle, the activations that enter the network's
    final layer (see :meth:`sklipo.nets.LipNet.embed`). Next to
    :class:`~sklipo.features.ParticleFeatures` in a ``FeatureUnion`` both
    take the same particles, so handcrafted and learned features feed one
    scaler and SVM in one pipeline::

        make_pipeline(
            FeatureUnion([("hand", ParticleFeatures()), ("cnn", LipNetEmbedding())]),
            StandardScaler(),
            SVC(class_weight="balanced"),
        )

    Cross-validated, the network is trained inside each training fold only,
    like every other step, so it never sees the test fold.

    Parameters
    ----------
    estimator : LipNetClassifier or Pipeline, default=None
        The network: a :class:`LipNetClassifier`, or a ``Pipeline`` whose
        last step is one (its earlier steps turn particles into the
        network's images). None means ``make_pipeline(CropParticle("masked"),
        IntensityNormalizer("quantile"), Resize(28),
        LipNetClassifier("lipnet4", balanced_batches=True))``, the study's
        best set-up for lamellarity (30 epochs, unseeded: pass your own
        estimator for other settings or a ``random_state``).
    prefit : bool, default=False
        Whether `estimator` is trained already. If False, `fit` trains a
        clone of it on ``(X, y)``. If True, `fit` only checks it is fitted
        and keeps a copy; ``clone`` (and so ``cross_validate`` and
        ``GridSearchCV``) then returns an unfitted estimator, unless it is
        wrapped in ``sklearn.frozen.FrozenEstimator``. Only use a prefit
        network trained on data outside every test set you evaluate on.

    Attributes
    ----------
    estimator_ : LipNetClassifier or Pipeline
        The trained network (with its preprocessing).
    n_embedding_ : int
        Number of output features, the length of the network's embedding
        (for a two-branch network, of its image branch).

    See Also
    --------
    LipNetClassifier : The network.
    sklipo.features.ParticleFeatures : The handcrafted features.

    Notes
    -----
    With ``prefit=False``, ``fit_transform`` embeds the particles the network
    was just trained on. Those embeddings separate the classes better than
    those of unseen particles, so a classifier stacked on them may lean on
    the learned features more than their test performance warrants; dropout,
    augmentation, early stopping and few epochs keep the gap small.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier, LipNetEmbedding
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(40, 1, 28, 28).astype(np.float32)
    >>> y = np.repeat(["a", "b"], 20)
    >>> net = LipNetClassifier("lipnet2", max_epochs=1, random_state=0)
    >>> embedding = LipNetEmbedding(net).fit(X, y)
    >>> embedding.transform(X).shape
    (40, 128)
    >>> embedding.get_feature_names_out()[:2]
    array(['lipnet_embedding_000', 'lipnet_embedding_001'], dtype=object)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "prefit": ["boolean"],
    }

    def __init__(self, estimator=None, *, prefit=False):
        self.estimator = estimator
        self.prefit = prefit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = not self.prefit
        _, lipnet = split_lipnet(self.estimator)
        tags.non_deterministic = lipnet is None or lipnet.random_state is None
        return tags

    @_fit_context(
        # the estimator's own parameters are validated when it is fitted
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None):
        """Train the network on particles `X` with labels `y`, or check a prefit one.

        Parameters
        ----------
        X : ParticleSet or array-like
            What `estimator` takes: particles for a pipeline that prepares
            them, images for a bare :class:`LipNetClassifier`.
        y : array-like of shape (n,), default=None
            Class labels; required unless `prefit`.

        Returns
        -------
        self : LipNetEmbedding
            The fitted transformer.
        """
        estimator = _default_estimator() if self.estimator is None else self.estimator
        if split_lipnet(estimator)[1] is None:
            raise TypeError(
                "LipNetEmbedding needs a LipNetClassifier, or a Pipeline whose last "
                f"step is one; got {type(estimator).__name__}. Features of other "
                "estimators are not network embeddings."
            )
        if self.prefit:
            try:
                check_is_fitted(estimator)
            except NotFittedError as exc:
                raise NotFittedError(
                    "When `prefit=True`, `estimator` is expected to be a fitted "
                    "estimator; fit it first, or set prefit=False."
                ) from exc
            self.estimator_ = deepcopy(estimator)
        else:
            if y is None:
                raise ValueError(
                    "LipNetEmbedding trains its network in fit and requires y to be "
                    "passed, but the target y is None. Pass the labels, or set "
                    "prefit=True with a trained estimator."
                )
            self.estimator_ = clone(estimator).fit(X, y)
        self.n_embedding_ = int(split_lipnet(self.estimator_)[1].net_.module_.n_embedding)
        return self

    def transform(self, X):
        """Return the network's penultimate activations of each particle.

        Parameters
        ----------
        X : ParticleSet or array-like
            Particles (or images) like those `fit` took.

        Returns
        -------
        embedding : ndarray of shape (n_particles, n_embedding)
            One row per particle, ``n_embedding_`` columns, in eval mode (no
            dropout, no augmentation), computed batch by batch without
            gradients.
        """
        check_is_fitted(self)
        steps, lipnet = split_lipnet(self.estimator_)
        return lipnet.embed(transform_before(steps, X))

    def get_feature_names_out(self, input_features=None):
        """Name every output column.

        Parameters
        ----------
        input_features : None
            Ignored: the outputs are learned units, not input features.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``lipnet_embedding_0`` ... numbered from 0, zero-padded to equal
            width.
        """
        check_is_fitted(self)
        width = len(str(self.n_embedding_ - 1))
        return np.asarray(
            [f"lipnet_embedding_{i:0{width}d}" for i in range(self.n_embedding_)], dtype=object
        )
