"""Training steps, prediction and embedding spread over a CPU's cores by Python threads.

torch runs the small batches of LipNets badly on several intra-op threads
(on 2 cores a batch of 32 trained about 1.25 times as fast on 2 threads as
on 1). Here each of ``k`` Python threads computes a part of the batch on one
intra-op thread (torch releases the GIL inside its operators, and CPU
autograd runs a backward pass on the thread that calls it), all on the one
module and its shared weights, and the gradients are summed in a fixed order
before one optimiser step. LipNets have no batch statistics, so with each
part's loss divided by the whole batch's weight this is the step of the
whole batch, up to the order of the sums. Dropout draws each part's masks
from a generator of its own, seeded from torch's generator at every step, so
a seeded fit is bit-identical from run to run with the same number of
threads; the masks are drawn as uniform numbers compared in place, a third
of the time of the ``bernoulli_`` that ``nn.Dropout`` calls, so a CPU fit on
one thread takes this path too, with the whole batch as one part.
Prediction and embedding run batches side by side, one per thread.
"""

# License: BSD 3 clause

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from sklipo._threads import get_threads
from sklipo.classifier._loss import ClassWeightedCrossEntropy
from sklipo.nets import HybridLipNet, LipNet, LipNetFCN

__all__ = []

#: Fewest samples per part: smaller parts cost more in overhead than they save.
MIN_PART = 8

# The dropout generator of the part the current thread computes.
_LOCAL = threading.local()

# Layers that compute each sample on its own (no batch statistics), with
# nn.Dropout the only random one: the LipNets are made of these.
_PER_SAMPLE = (
    nn.Conv2d, nn.Linear, nn.ReLU, nn.MaxPool2d, nn.AdaptiveAvgPool2d, nn.Flatten, nn.Identity,
    nn.Dropout, nn.Sequential, nn.ModuleList, LipNet, LipNetFCN, HybridLipNet,
)


def splits_batches(net):
    """Whether `net`'s training batches go through :func:`split_step`.

    On the CPU, for a module made of per-sample layers and the
    class-weighted cross-entropy loss; with one thread the batch is one part,
    computed on the calling thread with the fast dropout masks.
    """
    return (
        torch.device(net.device).type == "cpu"
        and isinstance(net.criterion_, ClassWeightedCrossEntropy)
        and all(type(layer) in _PER_SAMPLE for layer in net.module_.modules())
    )


def n_threads(net):
    """The number of threads to split `net`'s batches over; 1 keeps torch's own threading.

    More than 1 only where :func:`splits_batches`, with at least 2 threads
    both in sklipo's budget (:func:`sklipo.get_threads`) and in torch's
    setting.
    """
    if not splits_batches(net):
        return 1
    return max(1, min(get_threads(), torch.get_num_threads()))


def _one_thread():
    torch.set_num_threads(1)


class Workers:
    """The calling thread and ``n - 1`` pool threads, each running torch on one thread.

    Parameters
    ----------
    n : int
        Threads in all; 1 computes everything on the calling thread.
    pool : concurrent.futures.ThreadPoolExecutor or None
        The ``n - 1`` other threads; None for ``n = 1``.
    """

    def __init__(self, n, pool):
        self.n = n
        self.pool = pool

    def run(self, function, arguments):
        """Return ``[function(*args) for args in arguments]``, the first on this thread."""
        if self.pool is None:
            return [function(*args) for args in arguments]
        futures = [self.pool.submit(function, *args) for args in arguments[1:]]
        first = function(*arguments[0])
        return [first, *(future.result() for future in futures)]

    def map(self, function, items):
        """Yield ``function(item)`` for every item in order, `n` items at a time."""
        group = []
        for item in items:
            group.append((item,))
            if len(group) == self.n:
                yield from self.run(function, group)
                group = []
        if group:
            yield from self.run(function, group)


@contextlib.contextmanager
def workers(n):
    """Yield :class:`Workers` of `n` threads in all.

    For ``n >= 2`` the calling thread runs torch on one intra-op thread for
    the duration, and torch's setting is restored afterwards; ``n = 1``
    leaves torch's threads as they are.
    """
    if n < 2:
        yield Workers(1, None)
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(n - 1, initializer=_one_thread) as pool:
            yield Workers(n, pool)
    finally:
        # also resets the default that new threads take (the workers set it to 1)
        torch.set_num_threads(previous)


def _dropout_hook(layer, inputs, output):
    # uniform draws compared in place: a third of the time of ``bernoulli_``
    # (which nn.Dropout uses) on the CPU, with the same distribution
    keep = torch.empty_like(output).uniform_(generator=_LOCAL.generator)
    return output * keep.lt_(1 - layer.p).mul_(1 / (1 - layer.p))


@contextlib.contextmanager
def _part_dropout(module):
    """Make every ``nn.Dropout`` of `module` draw from the thread's own generator."""
    layers = [layer for layer in module.modules() if type(layer) is nn.Dropout and layer.p > 0]
    hooks = []
    try:
        for layer in layers:
            # in eval mode nn.Dropout passes its input through; the hook masks it
            layer.train(False)
            hooks.append(layer.register_forward_hook(_dropout_hook))
        yield
    finally:
        for hook in hooks:
            hook.remove()
        for layer in layers:
            layer.train(True)


def _part_gradients(net, inputs, target, total_weight, params, seed):
    """One part's loss (over the whole batch's weight), logits and gradients."""
    _LOCAL.generator = torch.Generator().manual_seed(seed)
    try:
        logits = net.infer(inputs)
        losses, weights = net.criterion_.sample_losses(logits, target)
        part = losses.sum() if weights is None else torch.sum(weights * losses)
        loss = part / total_weight
        gradients = torch.autograd.grad(loss, params, allow_unused=True)
    finally:
        del _LOCAL.generator
    return loss.detach(), logits.detach(), gradients


def split_step(net, threads, Xi, yi):
    """Compute a training batch's loss and gradients in parts, one per thread.

    A batch with fewer than ``2 * MIN_PART`` samples, or one thread, makes
    one part, computed on the calling thread.

    The gradients are stored in the ``.grad`` of `net`'s parameters, as
    ``loss.backward()`` of the whole batch stores them.

    Parameters
    ----------
    net : skorch.NeuralNet
        The net, with its module in training mode.
    threads : Workers
        The threads, from :func:`workers`.
    Xi : dict of str to torch.Tensor
        The batch's inputs of the module's forward, each with one row per
        sample.
    yi : torch.Tensor of shape (n,)
        The batch's class codes.

    Returns
    -------
    step : dict
        ``{"loss": loss, "y_pred": logits}`` of the whole batch, detached.
    """
    n_parts = max(1, min(threads.n, len(yi) // MIN_PART))
    yi = yi.to(net.device)
    weight = net.criterion_.weight
    total = float(len(yi)) if weight is None else weight[yi].sum()
    params = [p for p in net.module_.parameters() if p.requires_grad]
    seeds = torch.randint(2**62, (n_parts,)).tolist()
    split = {key: torch.tensor_split(value, n_parts) for key, value in Xi.items()}
    targets = torch.tensor_split(yi, n_parts)
    arguments = []
    for i in range(n_parts):
        inputs = {key: parts[i] for key, parts in split.items()}
        arguments.append((net, inputs, targets[i], total, params, seeds[i]))
    with _part_dropout(net.module_):
        results = threads.run(_part_gradients, arguments)
    for i, param in enumerate(params):
        gradients = [result[2][i] for result in results if result[2][i] is not None]
        param.grad = sum(gradients[1:], gradients[0]) if gradients else None
    return {
        "loss": sum((result[0] for result in results[1:]), results[0][0]),
        "y_pred": torch.cat([result[1] for result in results]),
    }
