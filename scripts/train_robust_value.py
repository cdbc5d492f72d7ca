"""Train the two-stage robust knapsack value network shipped with cutslack.

    OMP_NUM_THREADS=1 python scripts/train_robust_value.py            # the shipped model
    python scripts/train_robust_value.py --instances 8 --per-instance 20 --epochs 5 --out /tmp/tiny.npz

Samples instances over the published grid (n 20-80, UN/WC/ASC/SC, h, delta, budget factor),
first-stage decisions and scenarios, labels them with the exact second stage (parallel over
processes, progress bar), trains with an instance-level validation split, and writes the
weights and the training record (validation error, seed, sizes, times) to a .npz.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cutslack.surrogates.robust_value import SHIPPED_MODEL, TrainingData, generate_training_data, train_value_network


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--per-instance", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=160)
    parser.add_argument("--time-budget", type=float, default=480.0, help="seconds of training at most")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--value-hidden", type=int, default=64, help="width of the value head's hidden layer")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", default=str(SHIPPED_MODEL))
    parser.add_argument("--data", default=None, help="cache of the labelled samples (.npz): read when it exists, "
                        "else written")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.data and Path(args.data).is_file():
        data = TrainingData.load(args.data)
    else:
        data = generate_training_data(args.instances, args.per_instance, workers=args.workers, rng=args.seed,
                                      progress=True)
        if args.data:
            data.save(args.data)
    label_seconds = time.perf_counter() - start
    network = train_value_network(data, epochs=args.epochs, seed=args.seed, time_budget=args.time_budget,
                                  value_hidden=args.value_hidden, progress=True)
    network.info.update({"label_seconds": round(label_seconds, 1), "data_seed": args.seed,
                         "per_instance": args.per_instance,
                         "command": "python scripts/train_robust_value.py " + " ".join(sys.argv[1:] if argv is None else argv)})
    network.save(args.out)
    print({k: network.info[k] for k in sorted(network.info)})


if __name__ == "__main__":
    main()
