"""The QUBO samplers as ``cutslack.solve`` methods: ``exhaustive``, ``anneal``, ``tempering``, ``tabu``.

Each takes a :class:`~cutslack.binary.QUBO` and returns a :class:`~cutslack.result.Result`
whose ``x`` is the lowest-energy bit vector drawn and whose ``samples`` is the sampler's
SampleSet.  ``make_result`` re-scores ``x`` with the QUBO itself, which has the problem
interface (``sense="min"``, ``evaluate`` = energy, every bit vector feasible).
Constrained programs go through the formulation methods (``penalty``, ``unbalanced``,
``lagrangian``) instead.

>>> import numpy as np, cutslack
>>> from cutslack.binary import QUBO
>>> res = cutslack.solve(QUBO(np.array([[1.0, -3.0], [0.0, 1.0]])), method="exhaustive")
>>> res.objective, res.status.value
(-1.0, 'optimal')
"""

from __future__ import annotations

import inspect

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import QUBO
from cutslack.result import Result, SampleSet, Status
from cutslack.solvers.qubo.samplers import SAMPLERS

__all__ = ["solve_with_sampler"]


def solve_with_sampler(qubo: QUBO, *, sampler: str, rng=None, time_limit=None, callback=None, **options) -> Result:
    """Return the Result of sampling ``qubo`` with the sampler named ``sampler``.

    The sampler's per-chunk reports reach ``callback`` as intermediate Results (best sample so
    far); a ``StopIteration`` there ends the run with ``Status.STOPPED``.  Without a callback
    and a time limit the sampler runs in one chunk, as fast as calling it directly.  Exhaustive
    enumeration that covered the whole space returns ``Status.OPTIMAL`` with ``bound`` equal
    to the minimum energy.
    """
    problem = qubo
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    reports = 0

    def relay(samples: SampleSet) -> None:
        nonlocal reports
        reports += 1
        intermediate = make_result(problem, samples.best, method=sampler, run=run, samples=samples,
                                   n_vars=qubo.n, nit=reports)
        if run.report(intermediate):
            raise StopIteration

    # without a user callback the sampler gets none either, so (without a time limit) it runs
    # its kernel in one chunk: no intermediate SampleSets, no per-chunk energy recomputation
    samples = SAMPLERS[sampler](qubo, rng=run.rng, time_limit=time_limit,
                                callback=relay if callback is not None else None, **options)
    run.timed_out = run.timed_out or bool(samples.info.get("timed_out"))
    run.stopped = run.stopped or bool(samples.info.get("stopped"))
    status, bound = None, None
    if sampler == "exhaustive" and samples.info.get("complete"):
        status, bound = Status.OPTIMAL, samples.best_energy
    return make_result(problem, samples.best, method=sampler, run=run, status=status, bound=bound,
                       n_vars=qubo.n, nit=reports + 1, samples=samples, info=dict(samples.info))


def _method(name: str):
    """Return ``solve_with_sampler`` bound to one sampler, with that sampler's options in its signature."""

    def method(problem, **kwargs):
        return solve_with_sampler(problem, sampler=name, **kwargs)

    own = inspect.signature(SAMPLERS[name]).parameters
    params = [inspect.Parameter("problem", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [p for key, p in own.items() if key != "qubo" and key != "callback"]
    params.append(inspect.Parameter("callback", inspect.Parameter.KEYWORD_ONLY, default=None))
    method.__signature__ = inspect.Signature(params)
    method.__name__ = f"solve_{name}"
    method.__doc__ = f"Return the Result of the {name!r} sampler on a QUBO (see :func:`solve_with_sampler`)."
    return method


#: one warm-up call per sampler: the kernels the real instance needs (layout, field dtype, hot
#: sweeps are chosen from the QUBO itself), with almost no work
_WARM_OPTIONS = {"anneal": {"num_reads": 1, "num_sweeps": 2},
                 "tempering": {"num_reads": 1, "num_replicas": 2, "num_sweeps": 2},
                 "tabu": {"num_reads": 1, "num_iterations": 2}}


def _warm_key(qubo: QUBO) -> tuple:
    """What selects a sampler's compiled kernels: layout, size classes (float32 fields, hot sweeps), integrality."""
    from cutslack.solvers.qubo.samplers import FLOAT32_FIELD_MIN_VARIABLES, HOT_SWEEP_MIN_VARIABLES

    data = qubo.U.data if qubo.is_sparse else qubo.U
    return (qubo.is_sparse, qubo.n >= FLOAT32_FIELD_MIN_VARIABLES, qubo.n >= HOT_SWEEP_MIN_VARIABLES,
            bool(np.all(data == np.round(data))))


def _warm_hook(name: str):
    """Return the warm-up hook of sampler ``name``: the sampler run on the instance itself, two sweeps,
    before :func:`cutslack.solve` starts the clock (compiling is not the user's time)."""

    def warm(qubo: QUBO) -> None:
        if qubo.n:
            SAMPLERS[name](qubo, rng=0, **_WARM_OPTIONS[name])

    warm.cache_key = _warm_key
    return warm


for _name, _sampler in SAMPLERS.items():
    _first_line = (_sampler.__doc__ or "").strip().split("\n")[0]
    register_solver(_name, accepts=(QUBO,), description=f"QUBO sampler: {_first_line}",
                    warmup=_warm_hook(_name) if _name in _WARM_OPTIONS else None)(_method(_name))
