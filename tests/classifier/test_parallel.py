"""Tests of the training steps and prediction split over threads."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.preprocessing import FunctionTransformer

import sklipo
from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier, _net
from sklipo.classifier._parallel import n_threads, split_step, splits_batches, workers

RND_SEED = 0


def _images(n=64, seed=RND_SEED):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 16, 16).astype(np.float32)
    y = rng.randint(3, size=n)
    X[y == 1, :, 4:12, 4:12] += 1.0
    return X, y


def _particles(n=64, seed=RND_SEED):
    rng = np.random.RandomState(seed)
    sides = rng.randint(12, 21, size=(n, 2))
    return ParticleSet([rng.rand(h, w).astype(np.float32) for h, w in sides]), rng.randint(3, size=n)


def _corner_pixels(X):
    return np.asarray(X).reshape(len(X), -1)[:, :4]


def _fitted(n_threads_, data=_images, **params):
    X, y = data()
    with sklipo.threads(n_threads_):
        return LipNetClassifier(
            max_epochs=1, batch_size=32, augment=None, random_state=RND_SEED, **params
        ).fit(X, y)


def _count_split_steps(monkeypatch):
    calls = []

    def counted(net, threads, Xi, yi):
        calls.append(threads.n)
        return split_step(net, threads, Xi, yi)

    monkeypatch.setattr(_net, "split_step", counted)
    return calls


@pytest.mark.parametrize(
    "data, params",
    [
        (_images, {}),
        (_images, {"class_weight": {0: 1.0, 1: 5.0, 2: 0.5}}),
        (_images, {"loss": "logit_adjusted", "label_smoothing": 0.2}),
        (_particles, {"architecture": "lipnet_fcn"}),  # padded, with sizes
        (_images, {"extra_features": FunctionTransformer(_corner_pixels)}),  # hybrid
    ],
)
@pytest.mark.parametrize("n_parts", [1, 2, 3])
def test_split_step_gives_the_gradients_of_the_whole_batch(data, params, n_parts):
    clf = _fitted(1, data, dropout=0.0, precision="float32", **params)
    net = clf.net_
    X, y = data(n=30, seed=1)
    inputs, _ = clf.network_input(X).batch(torch.arange(30))
    target = torch.from_numpy(y)
    net.module_.train()
    net.optimizer_.zero_grad()
    loss = net.criterion_(net.module_(**inputs), target)
    loss.backward()
    expected = [p.grad.clone() for p in net.module_.parameters()]
    net.optimizer_.zero_grad()
    with workers(n_parts) as threads:
        step = split_step(net, threads, inputs, target)
    assert step["y_pred"].shape == (30, 3)
    assert step["loss"].item() == pytest.approx(loss.item(), abs=1e-6)
    for param, grad in zip(net.module_.parameters(), expected):
        np.testing.assert_allclose(param.grad.numpy(), grad.numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_parts", [1, 2])
def test_bfloat16_split_step_is_close_to_float32(n_parts):
    clf = _fitted(1, dropout=0.0, precision="bfloat16")
    assert clf.precision_ == "bfloat16"
    net = clf.net_
    X, y = _images(n=32, seed=1)
    inputs, target = {"x": torch.from_numpy(X)}, torch.from_numpy(y)
    net.module_.train()
    gradients = {}
    for dtype in (None, torch.bfloat16):
        net.autocast_dtype = dtype
        net.optimizer_.zero_grad()
        with workers(n_parts) as threads:
            step = split_step(net, threads, inputs, target)
        assert step["y_pred"].dtype == torch.float32
        gradients[dtype] = torch.cat([p.grad.flatten() for p in net.module_.parameters()])
    exact, approximate = gradients[None], gradients[torch.bfloat16]
    assert not torch.equal(exact, approximate)  # computed in bfloat16 indeed
    assert torch.linalg.norm(approximate - exact) < 0.05 * torch.linalg.norm(exact)


def test_split_step_computes_too_small_batches_in_one_part():
    net = _fitted(1, dropout=0.0, precision="float32").net_
    X, y = _images(n=12)
    inputs, target = {"x": torch.from_numpy(X)}, torch.from_numpy(y)
    net.module_.train()
    with torch.no_grad():
        expected = net.criterion_(net.module_(**inputs), target)
    threads_used = []
    with workers(2) as threads:
        original = threads.run
        threads.run = lambda function, arguments: threads_used.append(len(arguments)) or original(
            function, arguments
        )
        step = split_step(net, threads, inputs, target)
    assert threads_used == [1]
    assert step["loss"].item() == pytest.approx(expected.item(), abs=1e-6)


def test_split_step_applies_dropout_from_the_seed():
    net = _fitted(1, dropout=0.5).net_
    X, y = _images(n=32, seed=2)
    inputs, target = {"x": torch.from_numpy(X)}, torch.from_numpy(y)
    net.module_.train()
    losses = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        with workers(2) as threads:
            losses.append(float(split_step(net, threads, inputs, target)["loss"]))
    net.module_.eval()
    with torch.no_grad():
        no_dropout = float(net.criterion_(net.module_(**inputs), target))
    assert losses[0] == losses[1] != losses[2]
    assert no_dropout not in losses
    # the dropout layers are back in training mode, without hooks
    layers = [m for m in net.module_.modules() if isinstance(m, torch.nn.Dropout)]
    net.module_.train()
    assert all(m.training and not m._forward_hooks for m in layers)


@pytest.mark.parametrize(
    "data, params",
    [(_images, {}), (_particles, {"architecture": "lipnet_fcn"}), (_images, {"dropout": 0.5})],
)
@pytest.mark.parametrize("n_threads_", [1, 2])
def test_split_fits_are_bit_identical(monkeypatch, data, params, n_threads_):
    calls = _count_split_steps(monkeypatch)
    first = _fitted(n_threads_, data, **params)
    second = _fitted(n_threads_, data, **params)
    assert set(calls) == {n_threads_}  # every batch went through the split step
    for a, b in zip(first.net_.module_.parameters(), second.net_.module_.parameters()):
        assert torch.equal(a, b)
    X, _ = data(seed=3)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_one_thread_trains_in_one_part(monkeypatch):
    calls = _count_split_steps(monkeypatch)
    clf = _fitted(1)
    assert n_threads(clf.net_) == 1
    assert calls and set(calls) == {1}


def test_layers_with_batch_statistics_keep_the_plain_step():
    net = _fitted(2).net_
    assert splits_batches(net)
    net.module_.norm = torch.nn.BatchNorm2d(1)  # a layer that mixes the batch's samples
    assert not splits_batches(net)
    with sklipo.threads(2):
        assert n_threads(net) == 1


def test_threads_follow_sklipo_and_torch_settings():
    net = _fitted(1).net_
    with sklipo.threads(2):
        assert n_threads(net) == 2
        torch.set_num_threads(1)  # a user's own torch setting is kept too
        assert n_threads(net) == 1
    on_gpu = SimpleNamespace(device="cuda", module_=net.module_, criterion_=net.criterion_)
    with sklipo.threads(2):
        assert n_threads(on_gpu) == 1


def test_torch_threads_restored_after_fit_and_predict():
    before = torch.get_num_threads()
    clf = _fitted(2)
    with sklipo.threads(2):
        clf.predict_proba(_images()[0])
        inside = torch.get_num_threads()
    assert inside == 2
    assert torch.get_num_threads() == before
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert seen == [before]  # new threads take torch's setting, not the workers' 1


@pytest.mark.parametrize("method", ["predict_proba", "embed"])
@pytest.mark.parametrize("data, params", [(_images, {}), (_particles, {"architecture": "lipnet_fcn"})])
def test_parallel_prediction_and_embedding_keep_the_order(data, params, method):
    clf = _fitted(1, data, **params)
    X, _ = data(n=100, seed=4)
    with sklipo.threads(1):
        serial = getattr(clf, method)(X)
    with sklipo.threads(2):
        parallel = getattr(clf, method)(X)
    np.testing.assert_allclose(parallel, serial, rtol=0, atol=1e-6)


def test_workers_run_torch_on_one_thread_each():
    with sklipo.threads(2):
        with workers(2) as threads:
            seen = threads.run(torch.get_num_threads, [(), ()])
        assert torch.get_num_threads() == 2
    assert seen == [1, 1]
