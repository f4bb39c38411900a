"""One packing program, max ``values @ x`` s.t. ``A x <= b``, ``x >= 0``, solved by HiGHS.

``linprog(method="highs")`` runs the same HiGHS build, but its wrapper also fills the
marginals of every column's bounds in a Python loop, which costs more than the solve itself
for the plan's thousands of columns, and it offers no choice of simplex. The plan reads only
x and the row duals, so this hands HiGHS the model's arrays as they are, with primal simplex
and no presolve, and checks the answer as ``linprog`` does. Without scipy's HiGHS module (it
is private to scipy), ``linprog`` is used."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csc_array, sparray, spmatrix

try:
    from scipy.optimize._highspy import _core
except ImportError:  # pragma: no cover - a scipy without it: the public route
    _core = None

# linprog's check of a solution: tolerance sqrt(1e-9) * 10 on bounds and slacks
_TOLERANCE = float(np.sqrt(1e-9) * 10)


def solve_packing(
    values: np.ndarray, matrix: sparray | spmatrix, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The optimal x and each row's dual price (>= 0 for a binding row), or None when HiGHS
    finds no optimum (or one ``linprog`` would reject as numerically unsound)."""
    if _core is None:  # pragma: no cover
        result = linprog(
            -values, A_ub=matrix, b_ub=bounds, bounds=(0, None), method="highs",
            options={"presolve": False},
        )  # fmt: skip
        return (result.x, -result.ineqlin.marginals) if result.status == 0 else None
    highs = _solver()
    passed = _pass_model(highs, -np.asarray(values, dtype=float), matrix, bounds)
    if passed != _core.HighsStatus.kOk:
        return None
    if highs.run() == _core.HighsStatus.kError:
        return None
    if highs.getModelStatus() != _core.HighsModelStatus.kOptimal:
        return None
    solution = highs.getSolution()
    x = np.array(solution.col_value)
    slack = bounds - solution.row_value
    if np.isnan(x).any() or np.isnan(slack).any():
        return None
    if (x < -_TOLERANCE).any() or (slack < -_TOLERANCE).any():
        return None
    return x, -np.array(solution.row_dual)


_local = threading.local()


def _solver() -> Any:
    """This thread's HiGHS instance, options set once. Passing a model clears the previous
    model, basis and solution, so each solve starts afresh (same answer as a new instance)
    while the instance's own allocations are reused, about a tenth of a plan's solve."""
    highs = getattr(_local, "highs", None)
    if highs is None:
        highs = _local.highs = _core._Highs()
        highs.passOptions(_options())
    return highs


@cache
def _options() -> Any:
    """HiGHS's options for a packing program (the rest stay HiGHS's own).

    Presolve is off: on the plan's programs (a few hundred rows, thousands of columns, each
    column in one item row and one budget row) it cost more than it saved, about half the
    solve time, for the same optimal value. Primal simplex: x = 0 is feasible for a packing
    program, so primal simplex starts from a feasible basis; dual simplex starts from a basis
    that is not dual feasible (every column has a positive value) and spends a first phase on
    it. On the plan's programs primal took about a quarter less time than dual, for the same
    optimal value (another optimal vertex where the optimum is not unique)."""
    options = _core.HighsOptions()
    options.presolve = "off"
    options.highs_debug_level = _core.HighsDebugLevel.kHighsDebugLevelNone
    options.log_to_console = False
    options.output_flag = False
    options.simplex_strategy = _core.simplex_constants.SimplexStrategy.kSimplexStrategyPrimal
    return options


def _pass_model(
    highs: Any, cost: np.ndarray, matrix: sparray | spmatrix, bounds: np.ndarray
) -> Any:
    """The model column-wise, its arrays handed over as they are (no per-element conversion)."""
    columns = csc_array(matrix)
    rows, count = columns.shape
    return highs.passModel(
        count, rows, columns.nnz, int(_core.MatrixFormat.kColwise),
        int(_core.ObjSense.kMinimize), 0.0, np.ascontiguousarray(cost, dtype=np.float64),
        np.zeros(count), np.full(count, _core.kHighsInf), np.full(rows, -_core.kHighsInf),
        np.ascontiguousarray(bounds, dtype=np.float64), columns.indptr.astype(np.int32),
        columns.indices.astype(np.int32), columns.data.astype(np.float64),
        np.zeros(count, dtype=np.int32),  # every column continuous (kContinuous)
    )  # fmt: skip
