"""Large random TSP: ``tsp-ils`` against elkai (LKH-3, ``runs=1``) on uniform instances.

elkai runs first and its wall time becomes ``tsp-ils``'s time limit, so the ratio printed is
"our tour length / elkai's at no more than elkai's time" (issue 5's target: <= 1.02).  The
instance is coordinates-only beyond 5,000 cities (no distance matrix is built for ours).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tsp_large.py --sizes 5000 --seeds 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classical import elkai_tour, ours, timed, warm_up  # noqa: E402

from cutslack.problems.tsp import random_tsp  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "tsp_large.txt"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000])
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args(argv)
    warm_up()
    lines = [f"{'n':>6} {'elkai length':>14} {'elkai s':>8} {'ours best':>12} {'ours mean':>12} {'ours/elkai':>10} {'ours s':>7}"]
    print(lines[0], flush=True)
    for n in args.sizes:
        p = random_tsp(n, rng=n)
        length, seconds = timed(lambda: elkai_tour(p, coordinates=True))
        best, mean, _, t = ours(p, "tsp", args.seeds, seconds, False)
        lines.append(f"{n:>6} {length:>14.1f} {seconds:>8.1f} {best:>12.1f} {mean:>12.1f} {mean / length:>10.4f} {t:>7.1f}")
        print(lines[-1], flush=True)
    RESULTS.write_text("# benchmarks/tsp_large.py " + " ".join(sys.argv[1:]) + f" (seeds={args.seeds})\n"
                       + "\n".join(lines) + "\n")
    print(f"written: {RESULTS.name}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
