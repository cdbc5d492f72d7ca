"""Exact MILP embedding of ReLU networks in Pyomo models (big-M from interval arithmetic).

Each hidden neuron ``h = max(0, a)`` with pre-activation bounds ``a ∈ [L, U]`` becomes: nothing
(``U <= 0``, the neuron is always off), ``h = a`` (``L >= 0``, always on), or the big-M
formulation ``h >= a, h <= a - L (1 - z), 0 <= h <= U z`` with one binary ``z``.  The bounds come
from interval arithmetic on the affine layers; with a box on the inputs they are valid, so the
embedding is exact (the MILP's feasible ``(inputs, output)`` pairs are exactly the network's).

The robust-knapsack adversary embeds its one-input item encoders differently (the incremental
formulation of a piecewise-linear function, in :mod:`cutslack.surrogates.neur2ro`): its LP
relaxation is the convex hull of each item's function, where big-M ReLUs are weaker (not
benchmarked against each other here: one trial each, on a loaded machine, was inconclusive).

Why not OMLT: OMLT builds the same big-M formulation, but from ONNX/Keras models and one input
vector per network; here the robust knapsack needs the item encoder applied to each item with
the instance's fixed features folded into the first layer's bias (inputs of one variable per
item), and the value head fed by an aggregation of them, which is a dozen lines with plain
Pyomo and adds no dependency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["interval_affine", "add_relu_network"]


def interval_affine(W: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the bounds of ``W h + b`` over the box ``lo <= h <= hi``."""
    Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
    return Wp @ lo + Wn @ hi + b, Wp @ hi + Wn @ lo + b


class _Counter:
    def __init__(self):
        self.binaries = 0
        self.neurons = 0


def add_relu_network(block, inputs, lo, hi, layers, counter: _Counter | None = None, first_bounds=None):
    """Embed an MLP (``layers`` = ``[(W, b), ...]``, ReLU between layers, none after the last) in
    ``block`` and return ``(outputs, out_lo, out_hi)``.

    Parameters
    ----------
    block : pyomo Block
        Where the variables and constraints go.
    inputs : list
        Pyomo expressions (or numbers) of the input vector.
    lo, hi : arrays
        Bounds of the inputs (must be valid for the model's feasible set).
    layers : list of (W, b)
    counter : optional
        Receives the number of binaries and hidden neurons used.
    first_bounds : (lo, hi), optional
        Valid bounds on the first layer's pre-activations that are tighter than interval
        arithmetic (the caller knows more about the inputs than their box); the tighter of the
        two is used.
    """
    import pyomo.environ as pyo

    counter = counter if counter is not None else _Counter()
    h = list(inputs)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    layer_id = len(list(block.component_objects(pyo.Var)))
    for j, (W, b) in enumerate(layers):
        a_lo, a_hi = interval_affine(W, b, lo, hi)
        if j == 0 and first_bounds is not None:
            a_lo, a_hi = np.maximum(a_lo, first_bounds[0]), np.minimum(a_hi, first_bounds[1])
        pre = [sum(float(W[o, i]) * h[i] for i in range(W.shape[1]) if W[o, i] != 0 and not _is_zero(h[i]))
               + float(b[o]) for o in range(W.shape[0])]
        if j == len(layers) - 1:
            return pre, a_lo, a_hi
        size = W.shape[0]
        out = pyo.Var(range(size), bounds=(0.0, None))
        block.add_component(f"h{layer_id}_{j}", out)
        new_h = []
        for o in range(size):
            counter.neurons += 1
            if a_hi[o] <= 0:
                new_h.append(0.0)
                out[o].fix(0.0)
                continue
            out[o].setub(float(a_hi[o]))
            if a_lo[o] >= 0:
                block.add_component(f"on{layer_id}_{j}_{o}", pyo.Constraint(expr=out[o] == pre[o]))
            else:
                z = pyo.Var(domain=pyo.Binary)
                block.add_component(f"z{layer_id}_{j}_{o}", z)
                counter.binaries += 1
                block.add_component(f"ge{layer_id}_{j}_{o}", pyo.Constraint(expr=out[o] >= pre[o]))
                block.add_component(f"lo{layer_id}_{j}_{o}",
                                    pyo.Constraint(expr=out[o] <= pre[o] - float(a_lo[o]) * (1 - z)))
                block.add_component(f"hi{layer_id}_{j}_{o}", pyo.Constraint(expr=out[o] <= float(a_hi[o]) * z))
            new_h.append(out[o])
        h = new_h
        lo, hi = np.maximum(a_lo, 0.0), np.maximum(a_hi, 0.0)
    return h, lo, hi


def _is_zero(value) -> bool:
    return isinstance(value, (int, float)) and value == 0.0
