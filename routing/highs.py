"""One packing program, max ``values @ x`` s.t. ``A x <= b``, ``x >= 0``, solved by HiGHS.

``linprog(method="highs")`` runs the same HiGHS build, but its wrapper also fills the
marginals of every column's bounds in a Python loop, which costs more than the solve itself
for the plan's thousands of columns. The plan reads only x and the row duals, so this passes
HiGHS exactly the model and options ``linprog`` would, and checks the answer as ``linprog``
does. Without scipy's HiGHS module (it is private to scipy), ``linprog`` is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csc_array, csr_matrix

try:
    from scipy.optimize._highspy import _core
except ImportError:  # pragma: no cover - a scipy without it: the public route
    _core = None

# linprog's check of a solution: tolerance sqrt(1e-9) * 10 on bounds and slacks
_TOLERANCE = float(np.sqrt(1e-9) * 10)


def solve_packing(
    values: np.ndarray, matrix: csr_matrix, bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The optimal x and each row's dual price (>= 0 for a binding row), or None when HiGHS
    finds no optimum (or one ``linprog`` would reject as numerically unsound)."""
    if _core is None:  # pragma: no cover
        result = linprog(-values, A_ub=matrix, b_ub=bounds, bounds=(0, None), method="highs")
        return (result.x, -result.ineqlin.marginals) if result.status == 0 else None
    highs = _core._Highs()
    highs.passOptions(_options())
    highs.passModel(_model(-np.asarray(values, dtype=float), matrix, bounds))
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


def _options() -> Any:
    """The options ``linprog(method="highs")`` sets by default; the rest stay HiGHS's own."""
    options = _core.HighsOptions()
    options.presolve = "on"
    options.highs_debug_level = _core.HighsDebugLevel.kHighsDebugLevelNone
    options.log_to_console = False
    options.output_flag = False
    options.simplex_strategy = _core.simplex_constants.SimplexStrategy.kSimplexStrategyDual
    return options


def _model(cost: np.ndarray, matrix: csr_matrix, bounds: np.ndarray) -> Any:
    columns = csc_array(matrix)
    rows, count = columns.shape
    lp = _core.HighsLp()
    lp.num_col_ = lp.a_matrix_.num_col_ = count
    lp.num_row_ = lp.a_matrix_.num_row_ = rows
    lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(count)
    lp.col_upper_ = np.full(count, _core.kHighsInf)
    lp.row_lower_ = np.full(rows, -_core.kHighsInf)
    lp.row_upper_ = np.asarray(bounds, dtype=float)
    lp.a_matrix_.start_ = columns.indptr
    lp.a_matrix_.index_ = columns.indices
    lp.a_matrix_.value_ = columns.data
    return lp
