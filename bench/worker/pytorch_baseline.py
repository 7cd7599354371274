#!/usr/bin/python3
"""Eager PyTorch baseline for bench/worker/train_bench.cc.

Trains the same networks as the C++ benchmark (same layers, initial
distribution, optimizer, batch size and thread count) on Fashion-MNIST
images already in memory as a float tensor, and prints one JSON line with
the training images per second. Run with Debian's python3-torch
(/usr/bin/python3).
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 1, rows, cols)
    return np.frombuffer(data, dtype=np.uint8, offset=8)


class NhwcFlatten(nn.Module):
    """Flattens in NHWC order, as the C++ network does."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def bn(channels):
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


def small_net():
    # conv3x3/8 s2 ReLU -> prepool + conv3x3/16 ReLU -> avg pool 2 -> dense 48 -> 10
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
        nn.AvgPool2d(2),
        NhwcFlatten(), nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 10))


def medium_net():
    # conv3x3/32 BN ReLU -> prepool + conv3x3/64 BN ReLU -> conv3x3/48 s2 ReLU
    # -> max pool 2 -> dense 16 -> 10
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), bn(32), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), bn(64), nn.ReLU(),
        nn.Conv2d(64, 48, 3, stride=2), nn.ReLU(),
        nn.MaxPool2d(2),
        NhwcFlatten(), nn.Linear(192, 16), nn.ReLU(), nn.Linear(16, 10))


def keras_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--net", choices=["small", "medium"], required=True)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.from_numpy(read_idx(f"{args.data}/train-images-idx3-ubyte.gz")[:args.images].copy())
    y = torch.from_numpy(read_idx(f"{args.data}/train-labels-idx1-ubyte.gz")[:args.images].astype(np.int64))
    x = x.float().div_(255.0)  # data in memory, as floats

    model = small_net() if args.net == "small" else medium_net()
    keras_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    params = sum(p.numel() for n, p in model.named_parameters()
                 if not isinstance(dict(model.named_modules())[n.rsplit(".", 1)[0]], nn.BatchNorm2d))
    rates = []
    for _ in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for first in range(0, len(x), args.batch):
            idx = order[first:first + args.batch]
            logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        rates.append(len(x) / (time.perf_counter() - start))
    print(json.dumps({"images_per_second": max(rates), "parameters": params,
                      "final_loss": float(loss)}))


if __name__ == "__main__":
    main()
