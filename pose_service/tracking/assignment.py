"""The least-cost one-to-one matching of rows to columns (tracks to people, people of two looks, tracks across a
seam), as `scipy.optimize.linear_sum_assignment` gives it, for the few rows and columns a frame has.

Importing `scipy.optimize` takes 0.2-0.4 s (it loads linear programming, `scipy.linalg` and more), a tenth of a
whole `analyze --frame-rate adaptive` of a 6 s clip; the matrices here are a handful of people on a side. So the
Hungarian method with potentials (shortest augmenting paths, O(n² m)) in plain Python, on finite costs; a matrix
with a nan or an infinite entry goes to scipy, which knows what to do with them. Where several matchings cost the
same (exact ties), this one may pick another of them than scipy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["linear_sum_assignment"]


def linear_sum_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of a least-cost matching of `cost`'s rows to its columns, min(n, m) pairs, rows increasing."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"a cost matrix has two dimensions, got shape {c.shape}")
    if not np.isfinite(c).all():
        from scipy.optimize import linear_sum_assignment as scipy_assignment

        rows, cols = scipy_assignment(c)
        return rows, cols
    if c.shape[0] > c.shape[1]:
        cols, rows = _fewer_rows(c.T)
        order = np.argsort(rows, kind="stable")
        return rows[order], cols[order]
    return _fewer_rows(c)


def _fewer_rows(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The matching of an n x m matrix with n <= m: every row matched."""
    n, m = c.shape
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    rows = c.tolist()
    inf = float("inf")
    u = [0.0] * (n + 1)  # the rows' potentials (1-based; 0 is the augmenting path's virtual start)
    v = [0.0] * (m + 1)  # the columns'
    owner = [0] * (m + 1)  # the row matched to each column (0: none)
    way = [0] * (m + 1)  # the column before each on the shortest path
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        least = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0 = owner[j0]
            row, ui = rows[i0 - 1], u[i0]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = row[j - 1] - ui - v[j]
                    if reduced < least[j]:
                        least[j], way[j] = reduced, j0
                    if least[j] < delta:
                        delta, j1 = least[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    least[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:  # the path, flipped
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    pairs = sorted((owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j])
    return np.array([r for r, _ in pairs], dtype=np.intp), np.array([k for _, k in pairs], dtype=np.intp)
