#!/usr/bin/python3
"""Train the Tollgate Fashion-MNIST classifier with plain numpy and export it as ONNX.

Model: MLP 784 -> 256 -> 128 -> 10 (ReLU, softmax), Adam, fixed seed.
Exported graph:  image[N,1,28,28] f32 (0..1) -> Flatten -> Gemm -> Relu -> Gemm -> Relu
                 -> Gemm -> Softmax -> probs[N,10] f32

Outputs (relative to the plugin directory, i.e. plugins/fashion-mnist/):
  src/main/model/model.onnx
  src/main/model/labels.txt
  src/main/model/model-card.json
  src/test/resources/fixtures/test-samples.json

Usage:  /usr/bin/python3 train/train.py [--data DIR] [--epochs N] [--seed S] [--out PLUGIN_DIR]
"""
import os

# Single-threaded BLAS keeps the floating-point summation order (and so the trained
# weights) reproducible run-to-run. Must be set before numpy is imported.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import gzip
import json
import struct
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
HIDDEN = (256, 128)
OPSET = 17
IR_VERSION = 8
N_FIXTURE = 16


# --------------------------------------------------------------------------- data
def _open(path):
    if os.path.exists(path):
        return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise FileNotFoundError(path + "[.gz]")


def read_idx(path):
    """Read an IDX file (optionally gzipped). Returns a uint8 ndarray."""
    with _open(path) as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(shape)


def load(data_dir, kind):
    x = read_idx(os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % kind))
    y = read_idx(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % kind))
    assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28)
    return x, y


def to_input(pixels_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28] in 0..1 (== pixel / 255.0f)."""
    return (pixels_u8.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)


# --------------------------------------------------------------------------- model
def init_params(rng):
    sizes = (784,) + HIDDEN + (10,)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)).astype(np.float32)
        b = np.zeros(fan_out, dtype=np.float32)
        params += [w, b]
    return params


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(params, x):
    """Exactly the exported graph's math, in float32. x: [N,1,28,28] -> probs [N,10]."""
    h = x.reshape(x.shape[0], -1)                    # Flatten(axis=1)
    n = len(params) // 2
    for i in range(n):
        w, b = params[2 * i], params[2 * i + 1]
        h = h @ w + b                                # Gemm(transB=0)
        if i < n - 1:
            h = np.maximum(h, np.float32(0))         # Relu
    return softmax(h)                                # Softmax(axis=-1)


def train(params, x, y, epochs, seed, batch=128, lr=1e-3, lr_decay=0.8, wd=1e-4):
    rng = np.random.default_rng(seed + 1)
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    n = x.shape[0]
    xf = x.reshape(n, -1)
    nl = len(params) // 2
    for ep in range(epochs):
        t0 = time.time()
        perm = rng.permutation(n)
        loss_sum, correct = 0.0, 0
        cur_lr = lr * (lr_decay ** ep)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            xb, yb = xf[idx], y[idx]
            bs = xb.shape[0]
            # forward, keeping activations
            acts = [xb]
            h = xb
            for i in range(nl):
                h = h @ params[2 * i] + params[2 * i + 1]
                if i < nl - 1:
                    h = np.maximum(h, 0)
                acts.append(h)
            p = softmax(h)
            loss_sum += -np.log(p[np.arange(bs), yb] + 1e-12).sum()
            correct += int((p.argmax(1) == yb).sum())
            # backward (softmax + cross-entropy)
            g = p
            g[np.arange(bs), yb] -= 1
            g /= bs
            grads = [None] * len(params)
            for i in reversed(range(nl)):
                a_in = acts[i]
                grads[2 * i] = a_in.T @ g + wd * params[2 * i]
                grads[2 * i + 1] = g.sum(0)
                if i > 0:
                    g = (g @ params[2 * i].T) * (acts[i] > 0)
            # Adam
            t += 1
            c1 = 1 - b1 ** t
            c2 = 1 - b2 ** t
            for k, (pk, gk) in enumerate(zip(params, grads)):
                gk = gk.astype(np.float32)
                m[k] = b1 * m[k] + (1 - b1) * gk
                v[k] = b2 * v[k] + (1 - b2) * gk * gk
                pk -= (np.float32(cur_lr) * (m[k] / c1) / (np.sqrt(v[k] / c2) + eps)).astype(np.float32)
        print("epoch %2d/%d  lr %.2e  loss %.4f  train acc %.4f  (%.1fs)"
              % (ep + 1, epochs, cur_lr, loss_sum / n, correct / n, time.time() - t0), flush=True)
    return params


# --------------------------------------------------------------------------- export
def build_onnx(params, metadata):
    inits, nodes = [], []
    nodes.append(helper.make_node("Flatten", ["image"], ["flat"], axis=1, name="flatten"))
    cur = "flat"
    nl = len(params) // 2
    for i in range(nl):
        wn, bn = "fc%d.weight" % (i + 1), "fc%d.bias" % (i + 1)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(params[2 * i], dtype=np.float32), wn))
        inits.append(numpy_helper.from_array(np.ascontiguousarray(params[2 * i + 1], dtype=np.float32), bn))
        out = "fc%d" % (i + 1) if i < nl - 1 else "logits"
        nodes.append(helper.make_node("Gemm", [cur, wn, bn], [out], name="fc%d" % (i + 1),
                                      alpha=1.0, beta=1.0, transA=0, transB=0))
        cur = out
        if i < nl - 1:
            nodes.append(helper.make_node("Relu", [cur], [cur + ".relu"], name="relu%d" % (i + 1)))
            cur = cur + ".relu"
    nodes.append(helper.make_node("Softmax", [cur], ["probs"], axis=-1, name="softmax"))
    graph = helper.make_graph(
        nodes, "fashion_mnist_mlp",
        inputs=[helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        outputs=[helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 10])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="tollgate-train", producer_version="1.0",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = ("Fashion-MNIST MLP 784-256-128-10. Input 'image' float32 [N,1,28,28], "
                        "pixel/255.0 in 0..1. Output 'probs' float32 [N,10] softmax.")
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model


def params_from_onnx(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    nl = sum(1 for k in init if k.endswith(".weight"))
    params = []
    for i in range(nl):
        params += [init["fc%d.weight" % (i + 1)], init["fc%d.bias" % (i + 1)]]
    return m, params


def predict(params, x, batch=1000):
    return np.concatenate([forward(params, x[s:s + batch]) for s in range(0, x.shape[0], batch)])


# --------------------------------------------------------------------------- main
def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA, help="dir with *-idx?-ubyte.gz (default %(default)s)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--out", default=os.path.dirname(here), help="plugin dir (default: parent of train/)")
    args = ap.parse_args()

    t_start = time.time()
    np.random.seed(args.seed)
    xtr_u8, ytr = load(args.data, "train")
    xte_u8, yte = load(args.data, "t10k")
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    xtr, xte = to_input(xtr_u8), to_input(xte_u8)
    print("train %s  test %s  from %s" % (xtr.shape, xte.shape, args.data), flush=True)

    params = init_params(np.random.default_rng(args.seed))
    params = train(params, xtr, ytr, args.epochs, args.seed)
    print("training done in %.1fs" % (time.time() - t_start), flush=True)

    probs = predict(params, xte)
    correct = int((probs.argmax(1) == yte).sum())
    acc = correct / xte.shape[0]
    print("test accuracy %.4f (%d/%d)" % (acc, correct, xte.shape[0]), flush=True)

    model_dir = os.path.join(args.out, "src", "main", "model")
    fix_dir = os.path.join(args.out, "src", "test", "resources", "fixtures")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(fix_dir, exist_ok=True)

    meta = {"labels": ",".join(LABELS), "test_accuracy": "%.4f" % acc, "trained_by": "train.py",
            "test_correct": str(correct), "test_images": str(xte.shape[0]),
            "seed": str(args.seed), "epochs": str(args.epochs),
            "input_scaling": "pixel/255.0"}
    model_path = os.path.join(model_dir, "model.onnx")
    onnx.save(build_onnx(params, meta), model_path)

    # Re-load the exported file and recompute everything from its initializers.
    _, p2 = params_from_onnx(model_path)
    probs2 = predict(p2, xte)
    assert np.array_equal(probs, probs2), "exported weights differ from trained weights"
    correct2 = int((probs2.argmax(1) == yte).sum())
    assert correct2 == correct

    with open(os.path.join(model_dir, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    card = {"name": "fashion-mnist", "test_images": int(xte.shape[0]), "test_accuracy": round(acc, 4),
            "correct": correct, "seed": args.seed, "epochs": args.epochs,
            "architecture": "MLP 784-256-128-10 ReLU softmax", "opset": OPSET, "ir_version": IR_VERSION,
            "input": "image float32 [N,1,28,28] = pixel/255.0", "output": "probs float32 [N,10]",
            "trained_by": "train/train.py"}
    with open(os.path.join(model_dir, "model-card.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")

    # Java test fixture: first N test images as raw uint8 pixels + expected probs (float32 values
    # written as exact decimal doubles; parse as double, cast to float).
    samples = []
    p16 = forward(p2, xte[:N_FIXTURE])
    for i in range(N_FIXTURE):
        samples.append({"index": i, "label": int(yte[i]), "label_name": LABELS[int(yte[i])],
                        "predicted": int(p16[i].argmax()),
                        "pixels": [int(v) for v in xte_u8[i].reshape(-1)],
                        "probs": [float(v) for v in p16[i]]})
    fixture = {"description": "First %d Fashion-MNIST t10k test images. pixels: 784 raw uint8 values "
                              "(row-major 28x28); model input = pixel / 255.0f as float32 [1,1,28,28]. "
                              "probs: float32 softmax from the numpy forward pass of model.onnx; "
                              "compare with tolerance 1e-5." % N_FIXTURE,
               "source": os.path.join(args.data, "t10k-images-idx3-ubyte.gz"),
               "labels": LABELS, "tolerance": 1e-5, "samples": samples}
    with open(os.path.join(fix_dir, "test-samples.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")

    print("wrote %s (%d bytes); total %.1fs" % (model_path, os.path.getsize(model_path), time.time() - t_start))


if __name__ == "__main__":
    sys.exit(main())
