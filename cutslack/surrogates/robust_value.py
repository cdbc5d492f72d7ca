"""Learned second-stage value of the two-stage robust knapsack (a Neur2RO-style set encoder).

The network predicts ``Q(x, ξ) = max_{y, r} Σ (f - p̂ ξ) y + Σ p̂ ξ r`` (the second-stage profit of
:func:`cutslack.problems.robust.second_stage_profit`) from an instance, a first-stage ``x`` and a
scenario ``ξ``::

    φ_i = W2 relu(W1 [F_i, x_i, ξ_i, x_i ξ_i] + b1) + b2        per item (shared weights)
    z   = (1/n) Σ_i φ_i                                          sum aggregation, scaled by 1/n
    Q̂   = Σ_i f_i x_i  -  n s · ( w4 relu(W3 z + b3) + b4 )      value MLP (one hidden layer)

The network learns the **shortfall** ``Σ f x - Q`` (what the second stage loses against
producing every picked item unharmed), not ``Q`` itself: the worst-case profit is the small
difference ``Σ (p̄ - f) x + Q`` of two large numbers, and learning ``Q`` to 3 % gave errors of
10-30 % in the objective, while the shortfall is of the objective's own size.

``F_i`` are the item's data divided by the instance's largest number ``s`` (profits, degradation,
weights, outsourcing cost), its weights over the capacity, and the instance's ``Γ/n`` and
``C/Σc``.  Unlike Neur2RO, which encodes ``x`` and ``ξ`` with two separate set encoders, one
encoder sees both per item: an item's degradation matters only when the item is picked, and
the embedding stays as small — for fixed ``ξ`` the item term is linear in the binary ``x_i``
(two values), for fixed ``x`` it is a one-input ReLU net of ``ξ_i`` (see
:mod:`cutslack.surrogates.embedding`).

Weights are stored in a plain ``.npz`` (read with ``allow_pickle=False``); prediction and the
MILP embedding use NumPy only, so ``method="neur2ro"`` runs without torch.  Training
(:func:`train_value_network`) needs torch (the ``ml`` extra).  Labels come from the exact
second stage (dynamic programming, checked against HiGHS in the tests), computed in parallel
over processes by :func:`generate_training_data`.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cutslack.errors import BackendUnavailableError, InvalidInstanceError
from cutslack.problems.base import as_rng
from cutslack.problems.robust import CORRELATIONS, TwoStageRobustKnapsack, random_robust_knapsack, second_stage_profit

__all__ = ["ValueNetwork", "item_features", "N_ITEM_FEATURES", "generate_training_data", "train_value_network",
           "sample_decisions", "sample_scenarios", "TrainingData", "load_value_network", "SHIPPED_MODEL", "PUBLISHED_GRID"]

#: item features F_i (before x_i, ξ_i, x_i ξ_i)
ITEM_FEATURE_NAMES = ("pbar/s", "phat/s", "t/s", "c/s", "f/s", "c/C", "(c+t)/C", "Gamma/n", "C/sum(c)")
N_ITEM_FEATURES = len(ITEM_FEATURE_NAMES)
#: the network's per-item input: features, x_i, xi_i, x_i xi_i
N_INPUTS = N_ITEM_FEATURES + 3

#: the model shipped with the package (trained by scripts/train_robust_value.py)
SHIPPED_MODEL = Path(__file__).resolve().parent / "models" / "robust_knapsack_value.npz"

#: the published grid (Arslan & Detienne; Neur2RO's kp setting)
PUBLISHED_GRID = {"n": (20, 30, 40, 50, 60, 70, 80), "correlation": CORRELATIONS, "h": (40, 80),
                  "delta": (0.1, 0.5, 1.0), "budget_factor": (0.1, 0.15, 0.2)}


def instance_scale(problem: TwoStageRobustKnapsack) -> float:
    """The largest number of an instance's item data (the unit of the features and of the value)."""
    return float(max(problem.profits.max(), problem.degradations.max(), problem.repair_weights.max(),
                     problem.weights.max(), problem.outsourcing_costs.max(), 1e-9))


def item_features(problem: TwoStageRobustKnapsack) -> np.ndarray:
    """Return the ``(n, N_ITEM_FEATURES)`` item features ``F`` of an instance (see the module docstring)."""
    s = instance_scale(problem)
    C = max(problem.capacity, 1e-9)
    n = problem.n
    cols = [problem.profits / s, problem.degradations / s, problem.repair_weights / s, problem.weights / s,
            problem.outsourcing_costs / s, problem.weights / C, (problem.weights + problem.repair_weights) / C,
            np.full(n, problem.budget / n), np.full(n, problem.capacity / max(problem.weights.sum(), 1e-9))]
    return np.stack(cols, axis=1)


def _relu(a):
    return np.maximum(a, 0.0)


@dataclass(frozen=True)
class ValueNetwork:
    """A trained set-encoder value network (NumPy weights; see the module docstring).

    ``item_layers`` and ``value_layers`` are lists of ``(W, b)`` with ``W`` of shape
    ``(out, in)``; ReLU between layers, none after the last of each.  ``info`` holds the
    training record (validation error, seed, data size, ...).
    """

    item_layers: list
    value_layers: list
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.item_layers[0][0].shape[1] != N_INPUTS:
            raise InvalidInstanceError("item_layers", f"first layer takes {self.item_layers[0][0].shape[1]} inputs per "
                                       f"item, but the robust-knapsack features give {N_INPUTS}")
        if self.value_layers[0][0].shape[1] != self.item_layers[-1][0].shape[0]:
            raise InvalidInstanceError("value_layers", "the value MLP's input size differs from the item encoder's "
                                       "output size")
        if self.value_layers[-1][0].shape[0] != 1:
            raise InvalidInstanceError("value_layers", "the last layer must have one output")

    @property
    def embedding_size(self) -> int:
        return int(self.item_layers[-1][0].shape[0])

    def item_inputs(self, features: np.ndarray, X: np.ndarray, XI: np.ndarray) -> np.ndarray:
        """Return the per-item inputs ``(k, n, N_INPUTS)`` for batches ``X, XI`` of shape ``(k, n)``."""
        k, n = X.shape
        F = np.broadcast_to(features, (k, n, features.shape[1]))
        return np.concatenate([F, X[..., None], XI[..., None], (X * XI)[..., None]], axis=2)

    def encode_items(self, inputs: np.ndarray) -> np.ndarray:
        """Return the per-item outputs ``φ`` of ``(..., N_INPUTS)`` inputs."""
        h = inputs
        for j, (W, b) in enumerate(self.item_layers):
            h = h @ W.T + b
            if j < len(self.item_layers) - 1:
                h = _relu(h)
        return h

    def value_head(self, z: np.ndarray) -> np.ndarray:
        """Return the normalised value of aggregated embeddings ``z`` of shape ``(k, d)``."""
        h = z
        for j, (W, b) in enumerate(self.value_layers):
            h = h @ W.T + b
            if j < len(self.value_layers) - 1:
                h = _relu(h)
        return h[:, 0]

    def predict(self, problem: TwoStageRobustKnapsack, X, XI) -> np.ndarray:
        """Return the predicted second-stage profits ``Q̂(x, ξ)`` for rows of ``X`` and ``XI``."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        XI = np.atleast_2d(np.asarray(XI, dtype=float))
        if X.shape != XI.shape or X.shape[1] != problem.n:
            raise ValueError(f"X and XI must both have shape (k, {problem.n}), got {X.shape} and {XI.shape}")
        phi = self.encode_items(self.item_inputs(item_features(problem), X, XI))
        z = phi.mean(axis=1)
        return X @ problem.outsourcing_costs - self.value_head(z) * problem.n * instance_scale(problem)

    def save(self, path) -> None:
        """Write the weights and ``info`` to a ``.npz`` (no pickles)."""
        arrays = {}
        for prefix, layers in (("item", self.item_layers), ("value", self.value_layers)):
            for j, (W, b) in enumerate(layers):
                arrays[f"{prefix}_W{j}"] = np.asarray(W, dtype=np.float64)
                arrays[f"{prefix}_b{j}"] = np.asarray(b, dtype=np.float64)
        arrays["info_json"] = np.array(json.dumps(self.info, sort_keys=True))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **arrays)


def load_value_network(path=None) -> ValueNetwork:
    """Return the :class:`ValueNetwork` stored at ``path`` (default: the shipped model).

    Raises
    ------
    FileNotFoundError
        No such file.
    InvalidInstanceError
        A file whose layers do not fit the robust-knapsack features (field ``item_layers``)
        or each other.
    """
    path = Path(path) if path is not None else SHIPPED_MODEL
    if not path.is_file():
        raise FileNotFoundError(f"no value-network file at {path} (train one with scripts/train_robust_value.py)")
    with np.load(path, allow_pickle=False) as data:
        def layers(prefix):
            out, j = [], 0
            while f"{prefix}_W{j}" in data:
                out.append((np.array(data[f"{prefix}_W{j}"]), np.array(data[f"{prefix}_b{j}"])))
                j += 1
            if not out:
                raise InvalidInstanceError(f"{prefix}_layers", f"{path.name} has no {prefix} layers")
            return out

        info = json.loads(str(data["info_json"])) if "info_json" in data else {}
        return ValueNetwork(layers("item"), layers("value"), info)


# --------------------------------------------------------------------------------------------
# training data

def sample_decisions(problem: TwoStageRobustKnapsack, count: int, rng) -> np.ndarray:
    """Return ``count`` first-stage decisions, in turn: items of a random order added up to a
    random load of 0.3-3 times the capacity; items of a noisy greedy order (profit per weight,
    where robust decisions lie) up to 0.5-2 times the capacity; and uniform random bits.  Loads
    well past the capacity are included so that the network does not extrapolate there when
    the main problem tries them."""
    g = as_rng(rng)
    X = np.zeros((count, problem.n))
    ratio = problem.profits / np.maximum(problem.weights, 1e-9)
    for row in range(count):
        kind = row % 3
        if kind == 2:
            X[row] = g.random(problem.n) < g.uniform(0.1, 0.9)
            continue
        if kind == 0:
            order = g.permutation(problem.n)
            target = problem.capacity * g.uniform(0.3, 3.0)
        else:
            order = np.argsort(-ratio * g.lognormal(0.0, 0.3, problem.n))
            target = problem.capacity * g.uniform(0.5, 2.0)
        load = np.cumsum(problem.weights[order])
        X[row, order[load <= target]] = 1.0
    return X


def sample_scenarios(problem: TwoStageRobustKnapsack, X: np.ndarray, rng) -> np.ndarray:
    """Return one scenario per row of ``X``: half are vertices of the budget set on picked items
    (chosen with probability growing with ``p̂``), half random points of the set."""
    g = as_rng(rng)
    n, gamma = problem.n, problem.budget
    XI = np.zeros_like(X, dtype=float)
    for row, x in enumerate(X):
        if row % 2 == 0:
            picked = np.flatnonzero(x > 0.5)
            pool = picked if picked.size else np.arange(n)
            weights = problem.degradations[pool] + 1e-9
            order = g.choice(pool, size=pool.size, replace=False, p=weights / weights.sum())
            full = int(np.floor(gamma))
            XI[row, order[:full]] = 1.0
            if full < pool.size:
                XI[row, order[full]] = gamma - full
        else:
            xi = g.random(n) * (g.random(n) < g.uniform(0.1, 0.6))
            total = xi.sum()
            XI[row] = xi * min(1.0, gamma / total) if total > 0 else xi
    return XI


def _label_instance(task):
    """Worker: build one instance from its parameters and seed; return ``(problem args, X, XI, Q)``."""
    params, seed, per_instance = task
    g = np.random.default_rng(seed)
    problem = random_robust_knapsack(rng=g, **params)
    X = sample_decisions(problem, per_instance, g)
    XI = sample_scenarios(problem, X, g)
    Q = np.array([second_stage_profit(problem, x, xi)[0] for x, xi in zip(X, XI)])
    return params, seed, X, XI, Q


@dataclass
class TrainingData:
    """Labelled samples: per instance its features, decisions, scenarios and exact values."""

    features: list
    X: list
    XI: list
    Q: list
    scale: list
    params: list

    def __len__(self) -> int:
        return int(sum(q.shape[0] for q in self.Q))

    def save(self, path) -> None:
        """Write the samples to a ``.npz`` (no pickles)."""
        arrays = {"params_json": np.array(json.dumps(self.params)), "scale": np.array(self.scale)}
        for i in range(len(self.Q)):
            arrays.update({f"F{i}": self.features[i], f"X{i}": self.X[i], f"XI{i}": self.XI[i], f"Q{i}": self.Q[i]})
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> "TrainingData":
        """Read samples written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as d:
            params = json.loads(str(d["params_json"]))
            k = len(params)
            return cls([d[f"F{i}"] for i in range(k)], [d[f"X{i}"] for i in range(k)],
                       [d[f"XI{i}"] for i in range(k)], [d[f"Q{i}"] for i in range(k)], list(d["scale"]), params)


def generate_training_data(n_instances: int, per_instance: int, *, grid=None, workers: int = 1, rng=None,
                           progress: bool = False) -> TrainingData:
    """Return labelled samples from ``n_instances`` random instances of the published grid.

    Each instance draws its grid point at random (``grid`` overrides :data:`PUBLISHED_GRID`
    entries), ``per_instance`` decisions (:func:`sample_decisions`) and one scenario each
    (:func:`sample_scenarios`), labelled with the exact second stage.  ``workers > 1`` labels
    instances in parallel processes; the result does not depend on ``workers`` (each instance
    has its own seed drawn from ``rng``).
    """
    g = as_rng(rng)
    grid = {**PUBLISHED_GRID, **(grid or {})}
    tasks = []
    for _ in range(n_instances):
        params = {key: values[int(g.integers(len(values)))] for key, values in grid.items()}
        params = {k: (int(v) if k in ("n", "h") else (str(v) if k == "correlation" else float(v)))
                  for k, v in params.items()}
        tasks.append((params, int(g.integers(0, 2**31 - 1)), per_instance))
    if workers > 1:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(_progress(pool.map(_label_instance, tasks), len(tasks), progress))
    else:
        results = list(_progress(map(_label_instance, tasks), len(tasks), progress))
    data = TrainingData([], [], [], [], [], [])
    for params, seed, X, XI, Q in results:
        problem = random_robust_knapsack(rng=np.random.default_rng(seed), **params)
        data.features.append(item_features(problem))
        data.X.append(X)
        data.XI.append(XI)
        data.Q.append(Q)
        data.scale.append(problem.n * instance_scale(problem))
        data.params.append(params)
    return data


def _progress(iterable, total, show):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc="labelling instances")


# --------------------------------------------------------------------------------------------
# training (torch)

def _torch():
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError("PyTorch (needed to train the value network)", 'pip install "cutslack[ml]"') from None
    return torch


def train_value_network(data: TrainingData, *, hidden: int = 32, embedding: int = 16, value_hidden: int = 32,
                        value_layers: int = 1, epochs: int = 200, lr: float = 3e-3, batch_instances: int = 16, validation: float = 0.15,
                        seed: int = 0, time_budget: float | None = None, progress: bool = False) -> ValueNetwork:
    """Return a :class:`ValueNetwork` trained on ``data`` (MSE on the shortfall ``(Σ f x - Q) / (n s)``, Adam, CPU).

    A fraction ``validation`` of the *instances* is held out; ``info`` records the validation
    mean absolute error relative to the mean label (``val_relative_mae``) and the relative
    error per sample (``val_median_relative_error``), the seed and the sizes.

    Raises
    ------
    BackendUnavailableError
        torch is not installed (with the pip line).
    """
    torch = _torch()
    torch.manual_seed(seed)
    g = np.random.default_rng(seed)
    n_inst = len(data.Q)
    order = g.permutation(n_inst)
    n_val = max(1, int(round(validation * n_inst))) if n_inst > 1 else 0
    val_idx, train_idx = order[:n_val], order[n_val:]
    if train_idx.size == 0:
        raise ValueError("need at least two instances (one to train on, one to validate)")

    def tensors(i):
        F = data.features[i]
        X, XI = data.X[i], data.XI[i]
        k, n = X.shape
        inputs = np.concatenate([np.broadcast_to(F, (k, n, F.shape[1])), X[..., None], XI[..., None],
                                 (X * XI)[..., None]], axis=2)
        shortfall = (X @ _outsourcing_costs(data, i) - data.Q[i]) / data.scale[i]
        return torch.tensor(inputs, dtype=torch.float32), torch.tensor(shortfall, dtype=torch.float32)

    cache = [tensors(i) for i in range(n_inst)]
    item_net = torch.nn.Sequential(torch.nn.Linear(N_INPUTS, hidden), torch.nn.ReLU(),
                                   torch.nn.Linear(hidden, embedding))
    head = [torch.nn.Linear(embedding, value_hidden), torch.nn.ReLU()]
    for _ in range(value_layers - 1):
        head += [torch.nn.Linear(value_hidden, value_hidden), torch.nn.ReLU()]
    value_net = torch.nn.Sequential(*head, torch.nn.Linear(value_hidden, 1))
    params = list(item_net.parameters()) + list(value_net.parameters())
    optimiser = torch.optim.Adam(params, lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs))

    def forward(inputs):
        return value_net(item_net(inputs).mean(dim=1))[:, 0]

    start = time.perf_counter()
    done = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=epochs, desc="training")
    for epoch in range(epochs):
        perm = g.permutation(train_idx)
        for b in range(0, perm.size, batch_instances):
            optimiser.zero_grad()
            loss = sum(torch.mean((forward(cache[i][0]) - cache[i][1]) ** 2) for i in perm[b:b + batch_instances])
            loss.backward()
            optimiser.step()
        scheduler.step()
        done = epoch + 1
        if bar is not None:
            bar.update(1)
        if time_budget is not None and time.perf_counter() - start > time_budget:
            break
    if bar is not None:
        bar.close()

    def as_layers(seq):
        return [(m.weight.detach().numpy().astype(np.float64), m.bias.detach().numpy().astype(np.float64))
                for m in seq if isinstance(m, torch.nn.Linear)]

    network = ValueNetwork(as_layers(item_net), as_layers(value_net))
    errors = validation_errors(network, data, val_idx if val_idx.size else train_idx)
    info = {"seed": int(seed), "epochs": int(done), "instances": int(n_inst), "samples": len(data),
            "validation_instances": int(val_idx.size), "hidden": hidden, "embedding": embedding,
            "value_hidden": value_hidden, "value_layers": value_layers, "train_seconds": round(time.perf_counter() - start, 1), **errors}
    return ValueNetwork(network.item_layers, network.value_layers, info)


def _outsourcing_costs(data: TrainingData, i: int) -> np.ndarray:
    """The outsourcing costs f of sample instance ``i`` (feature f/s times s = scale / n)."""
    F = data.features[i]
    return F[:, ITEM_FEATURE_NAMES.index("f/s")] * data.scale[i] / F.shape[0]


def validation_errors(network: ValueNetwork, data: TrainingData, indices) -> dict:
    """Return the relative errors of ``network`` on the instances ``indices`` of ``data``."""
    abs_err, labels, rel = [], [], []
    for i in indices:
        F, X, XI, Q = data.features[i], data.X[i], data.XI[i], data.Q[i]
        phi = network.encode_items(network.item_inputs(F, X, XI))
        pred = X @ _outsourcing_costs(data, i) - network.value_head(phi.mean(axis=1)) * data.scale[i]
        abs_err.append(np.abs(pred - Q))
        labels.append(np.abs(Q))
        rel.append(np.abs(pred - Q) / np.maximum(np.abs(Q), 1e-9))
    abs_err, labels, rel = (np.concatenate(a) for a in (abs_err, labels, rel))
    return {"val_relative_mae": float(abs_err.mean() / max(labels.mean(), 1e-9)),
            "val_median_relative_error": float(np.median(rel)),
            "val_p90_relative_error": float(np.quantile(rel, 0.9))}
