"""A skorch callback that reports each training epoch as a progress step."""

# License: BSD 3 clause

from numbers import Real

from skorch.callbacks import Callback

from sklipo._progress import Progress

__all__ = ["EpochProgress"]

# history keys that are bookkeeping, not scores
_NOT_SCORES = {"epoch", "batches", "dur"}


class EpochProgress(Callback):
    """Report each epoch of a skorch net: a bar on a terminal, plain lines in a log.

    Pass it to :class:`~sklipo.classifier.LipNetClassifier` through
    ``callbacks=[EpochProgress()]``. Each epoch is one step of a
    :class:`~sklipo._progress.Progress` over the net's ``max_epochs``, with
    the epoch's scores from ``net.history``, e.g. ``"train_loss 1.0986,
    valid_loss 1.0412, 0.1 s"``. Unlike a verbose net, it reads no printed
    table.

    Parameters
    ----------
    desc : str, default="epoch"
        What is counted, e.g. ``"[train] epoch"``.
    bar : bool, default=None
        Force the bar (True) or plain lines (False); None picks the bar when
        standard error is a terminal.
    keep_lines : bool, default=False
        On a terminal, also write each epoch's line above the bar; False
        shows the scores in the bar only.

    Attributes
    ----------
    progress_ : Progress
        The progress of the training run under way; absent between runs and
        in a pickled copy (a fitted model stays picklable).
    """

    def __init__(self, desc="epoch", *, bar=None, keep_lines=False):
        self.desc = desc
        self.bar = bar
        self.keep_lines = keep_lines

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._close()
        self.progress_ = Progress(
            net.max_epochs, self.desc, bar=self.bar, keep_lines=self.keep_lines
        )

    def on_epoch_end(self, net, **kwargs):
        if getattr(self, "progress_", None) is not None:
            self.progress_.update(_scores(net.history[-1]))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._close()

    def _close(self):
        progress = self.__dict__.pop("progress_", None)
        if progress is not None:
            progress.close()

    def __getstate__(self):
        # the progress holds streams and a tqdm bar: neither pickles
        state = self.__dict__.copy()
        state.pop("progress_", None)
        return state


def _scores(row):
    """``"train_loss 0.9123, valid_acc 0.6500, 1.2 s"`` for one epoch of a net's history."""
    scores = [
        f"{key} {value:.4f}"
        for key, value in row.items()
        if key not in _NOT_SCORES
        and not key.endswith(("_best", "_batch_count"))
        and not key.startswith("event_")
        and isinstance(value, Real)
        and not isinstance(value, bool)
    ]
    if isinstance(row.get("dur"), Real):
        scores.append(f"{row['dur']:.1f} s")
    return ", ".join(scores)
