"""Prediction throughput of LipNetClassifier against a raw torch loop and ONNX Runtime.

Per fixed-size architecture (28x28; 32x32 for LipNet-6) on 2,048 particles:

- raw: the loop a user writes, ``module.eval()``, ``torch.no_grad()``,
  batches of 32, softmax;
- sklipo: ``predict_proba`` (channels-last weights, ``inference_mode``,
  batches of 32 like the raw loop, with 2 or more threads one batch per
  thread side by side, each on one torch thread);
- onnxruntime: the model of :func:`sklipo.deployment.export_onnx` in one
  ``InferenceSession`` (one call for all particles), with its largest
  difference from ``predict_proba``;
- sklipo-ort: what ``sklipo predict --runtime onnx`` runs,
  ``OnnxPredictor(clf).predict_proba`` (batches of 256 through ONNX Runtime,
  after the parity check of its first call).

The three run interleaved and the medians are compared, so load from other
programs hits all alike. The fully convolutional net is timed on a
ParticleSet of 24-40 px particles (sklipo only).

Run: python benchmarks/bench_lipnet_predict.py [--threads 2] [--repeat 5]
"""

import argparse
import copy
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier
from sklipo.deployment import export_onnx
from sklipo.deployment._runtime import OnnxPredictor
from sklipo.nets import ARCHITECTURES

N_SAMPLES = 2048


def raw_predict(clf, X):
    """predict_proba as a user writes it around the same trained module."""
    # a copy in torch's default (contiguous) layout, as a user's module is
    module = copy.deepcopy(clf.net_.module_).to(memory_format=torch.contiguous_format).eval()
    X = torch.from_numpy((X - clf.mean_[0]) / clf.scale_[0]).float()[:, None]
    with torch.no_grad():
        return torch.cat([torch.softmax(module(X[s : s + 32]), 1) for s in range(0, len(X), 32)])


def onnx_session(clf, directory, threads):
    path = export_onnx(clf, Path(directory) / f"{clf.architecture}.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda X: session.run(None, {"image": X[:, None]})[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.RandomState(0)
    y = rng.randint(3, size=N_SAMPLES)
    print(
        f"predict, {N_SAMPLES} particles, {args.threads} thread(s), median of "
        f"{args.repeat} interleaved runs; load average {os.getloadavg()}"
    )
    print(f"{'':10s} {'':7s} {'raw':>8s} {'sklipo':>8s} {'onnxrt':>8s} {'skl-ort':>8s}  "
          "particles/s; sklipo/raw, onnxrt/sklipo, sklipo-ort/raw, max |onnxrt - sklipo|")
    with tempfile.TemporaryDirectory() as directory:
        for architecture in ARCHITECTURES[:-1]:  # the last, lipnet_fcn, below
            size = 32 if architecture == "lipnet6" else 28
            X = rng.rand(N_SAMPLES, size, size).astype(np.float32)
            clf = LipNetClassifier(architecture, max_epochs=1, random_state=0).fit(X[:64], y[:64])
            methods = {
                "raw": lambda: raw_predict(clf, X),
                "sklipo": lambda: clf.predict_proba(X),
                "onnxrt": onnx_session(clf, directory, args.threads),
            }
            methods["onnxrt"] = (lambda run: lambda: run(X))(methods["onnxrt"])
            predictor = OnnxPredictor(clf, threads=args.threads)
            methods["sklipo-ort"] = lambda: predictor.predict_proba(X[:])  # a new object: no cache
            for method in methods.values():
                method()  # warm-up
            times = {name: [] for name in methods}
            for _ in range(args.repeat):
                for name, method in methods.items():
                    start = time.perf_counter()
                    method()
                    times[name].append(time.perf_counter() - start)
            rate = {name: N_SAMPLES / statistics.median(t) for name, t in times.items()}
            gap = np.abs(methods["onnxrt"]() - clf.predict_proba(X)).max()
            print(
                f"{architecture:10s} {size}x{size}  {rate['raw']:8.0f} {rate['sklipo']:8.0f} "
                f"{rate['onnxrt']:8.0f} {rate['sklipo-ort']:8.0f}  "
                f"{rate['sklipo'] / rate['raw']:.2f}x {rate['onnxrt'] / rate['sklipo']:.2f}x "
                f"{rate['sklipo-ort'] / rate['raw']:.2f}x {gap:.1e}"
            )
    sides = rng.randint(24, 41, size=(N_SAMPLES, 2))
    X = ParticleSet([rng.rand(h, w).astype(np.float32) for h, w in sides])
    clf = LipNetClassifier("lipnet_fcn", max_epochs=1, random_state=0).fit(X[:64], y[:64])
    clf.predict_proba(X)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        clf.predict_proba(X)
        times.append(time.perf_counter() - start)
    print(f"{'lipnet_fcn':10s} 24-40 px  sklipo {N_SAMPLES / statistics.median(times):8.0f}")


if __name__ == "__main__":
    main()
