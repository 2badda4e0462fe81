"""Training speed and accuracy of LipNetClassifier against a hand-written PyTorch loop.

LipNet-4 on 28x28 crops of synthetic liposomes (lamellarity, or
encapsulation with --problem), batch size 32,
10 epochs, no augmentation, the same seed. The raw loop and sklipo run
interleaved (A, B, A, B, ...) and the medians are compared, so load from
other programs hits both alike. Printed per method: samples/s, the work done
in GFLOP/s (the network's forward and backward FLOPs per sample, counted
from its layers, over the time) and the held-out balanced accuracy; then the
ratio sklipo/raw and the share of the machine's matmul GFLOP/s (a float32
matmul probe run in the same process), with the issue's targets.

Run: python benchmarks/bench_lipnet_training.py [--threads 2] [--repeat 3]
     [--precision auto|float32|bfloat16] [--problem lamellarity|encapsulation]

The matmul probe is float32: with bfloat16 training the share compares
bfloat16 work with float32 peak, and can pass 100 %.
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline

from sklipo.classifier import LipNetClassifier
from sklipo.classifier._net import resolve_precision
from sklipo.classifier._parallel import n_threads
from sklipo.datasets import make_liposomes
from sklipo.nets import LipNet
from sklipo.preprocessing import CropParticle, Resize

BATCH_SIZE = 32
N_EPOCHS = 10
N_TRAIN = 1200


def training_flops(module, shape):
    """Forward + backward FLOPs of one sample: 3 x the forward's multiply-adds x 2."""
    flops = []

    def count(layer, inputs, output):
        if isinstance(layer, torch.nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1] * layer.in_channels // layer.groups
            flops.append(2 * k * output.numel())
        elif isinstance(layer, torch.nn.Linear):
            flops.append(2 * layer.in_features * output.numel())

    hooks = [m.register_forward_hook(count) for m in module.modules()]
    with torch.no_grad():
        module.eval()(torch.zeros(1, *shape))
    for hook in hooks:
        hook.remove()
    # backward: the gradients of the inputs and of the weights, each as costly
    # as the forward (the first layer's input gradient is not needed; ignored)
    return 3 * sum(flops)


def matmul_gflops(n=1024, repeat=20):
    """float32 GFLOP/s of an n x n matmul at the current thread count (best of `repeat`)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def raw_loop(X, y, seed):
    """The same model, loss, optimiser and batches, as a user writes it in plain PyTorch."""
    torch.manual_seed(seed)
    module = LipNet("lipnet4", input_shape=(28, 28), n_classes=3)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    module.train()
    for _ in range(N_EPOCHS):
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = criterion(module(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            loss.item()
    module.eval()

    def predict(X_test):
        with torch.no_grad():
            return module(X_test).argmax(1).numpy()

    return predict


def sklipo_fit(X, y, seed, precision="auto"):
    clf = LipNetClassifier(
        "lipnet4", max_epochs=N_EPOCHS, batch_size=BATCH_SIZE, augment=None,
        precision=precision, random_state=seed,
    ).fit(X, y)
    return clf.predict


def sklipo_threads():
    """How sklipo runs a batch here: split over Python threads, or on torch's threads."""
    clf = LipNetClassifier("lipnet4", max_epochs=1, augment=None, random_state=0)
    net = clf.fit(np.zeros((6, 1, 28, 28), np.float32), [0, 1, 2] * 2).net_
    n = n_threads(net)
    if n > 1:
        return f"each batch split over {n} Python threads of 1 torch thread"
    return f"whole batches on {torch.get_num_threads()} torch thread(s)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--problem", choices=["lamellarity", "encapsulation"],
                        default="lamellarity")
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                        help="LipNetClassifier's precision (auto: bfloat16 where the CPU has it)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = make_liposomes(
        n_samples=N_TRAIN + 400, weights=[1, 1, 1], problem=args.problem, random_state=0,
        return_X_y=True,
    )
    images = np.asarray(make_pipeline(CropParticle("masked"), Resize(28)).fit_transform(X))
    images = images.astype(np.float32).reshape(len(images), 1, 28, 28)
    codes = np.unique(y, return_inverse=True)[1]
    train, test = slice(None, N_TRAIN), slice(N_TRAIN, None)
    # the raw loop standardises like sklipo does (training mean and std)
    mean, std = images[train].mean(), images[train].std()
    X_raw = torch.from_numpy((images - mean) / std)
    y_raw = torch.from_numpy(codes)

    methods = {
        "raw PyTorch loop": lambda seed: raw_loop(X_raw[train], y_raw[train], seed)(X_raw[test]),
        "sklipo": lambda seed: sklipo_fit(images[train], codes[train], seed, args.precision)(
            images[test]
        ),
    }
    sklipo_fit(images[:64], codes[:64], 0)  # warm-up
    times = {name: [] for name in methods}
    scores = {name: [] for name in methods}
    probes = []
    for seed in range(args.repeat):
        probes.append(matmul_gflops())
        for name, method in methods.items():
            start = time.perf_counter()
            y_pred = method(seed)
            times[name].append(time.perf_counter() - start)
            scores[name].append(balanced_accuracy_score(codes[test], y_pred))
    peak = statistics.median(probes)
    flops = training_flops(LipNet("lipnet4", input_shape=(28, 28), n_classes=3), (1, 28, 28))
    n = N_TRAIN * N_EPOCHS
    print(
        f"LipNet-4, 28x28, batch {BATCH_SIZE}, {N_EPOCHS} epochs of {N_TRAIN} {args.problem} samples, "
        f"{args.threads} thread(s), median of {args.repeat} interleaved runs (seeds 0..)"
    )
    print(f"load average {os.getloadavg()}; {flops / 1e6:.1f} MFLOP per sample")
    print(f"sklipo: {sklipo_threads()}, precision {args.precision!r} "
          f"({resolve_precision(args.precision, 'cpu')} here); the raw loop: "
          f"{torch.get_num_threads()} torch thread(s), float32")
    print(f"float32 matmul probe: {peak:.0f} GFLOP/s")
    rates = {}
    for name in methods:
        rate = n / statistics.median(times[name])
        rates[name] = rate
        print(
            f"{name:17s} {rate:7.0f} samples/s  {rate * flops / 1e9:6.1f} GFLOP/s "
            f"({rate * flops / 1e9 / peak:5.1%} of matmul)  balanced accuracy "
            f"{np.mean(scores[name]):.3f} ({', '.join(f'{s:.3f}' for s in scores[name])})"
        )
    ratio = rates["sklipo"] / rates["raw PyTorch loop"]
    gap = np.mean(scores["sklipo"]) - np.mean(scores["raw PyTorch loop"])
    print(f"sklipo / raw samples/s: {ratio:.2f}x (target >= 1.3)")
    print(f"balanced accuracy sklipo - raw: {gap:+.3f} (target within +-0.02)")
    print(f"sklipo share of matmul GFLOP/s: {rates['sklipo'] * flops / 1e9 / peak:.1%} (target >= 65 %)")


if __name__ == "__main__":
    main()
