"""Numba kernel of the two-stage robust knapsack's second stage (a multiple-choice knapsack).

Hand-written because it is the hot loop of the exact worst-case evaluation, of CCG and of the
training-label generation (thousands of solves per instance); a HiGHS MILP per solve was
50-80x slower on these sizes.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["multiple_choice_knapsack_dp"]


@numba.njit(cache=True)
def multiple_choice_knapsack_dp(w_keep, w_repair, p_keep, p_repair, capacity):
    """Return per item 0 (drop), 1 (keep, weight ``w_keep``) or 2 (keep and repair, ``w_repair``)
    maximising the profit within ``capacity`` (integer weights; exact dynamic programming)."""
    m = w_keep.shape[0]
    best = np.zeros(capacity + 1)
    choice = np.zeros((m, capacity + 1), dtype=np.int8)
    for i in range(m):
        a, b = w_keep[i], w_repair[i]
        pa, pb = p_keep[i], p_repair[i]
        for w in range(capacity, -1, -1):
            value = best[w]
            pick = 0
            if w >= a and best[w - a] + pa > value:
                value = best[w - a] + pa
                pick = 1
            if w >= b and best[w - b] + pb > value:
                value = best[w - b] + pb
                pick = 2
            best[w] = value
            choice[i, w] = pick
    out = np.zeros(m, dtype=np.int8)
    w = capacity
    for i in range(m - 1, -1, -1):
        pick = choice[i, w]
        out[i] = pick
        if pick == 1:
            w -= w_keep[i]
        elif pick == 2:
            w -= w_repair[i]
    return out
