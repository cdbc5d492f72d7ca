"""Learned surrogates: models and online learners that stand in for, or tune, expensive solvers.

Modules are imported by name (``from cutslack.surrogates.relax import ...``); importing this
package imports none of them, so optional extras load only where a module needs them.
"""
