"""`tracking.assignment.linear_sum_assignment` against scipy's: the same least total cost and, where no two
matchings cost the same, the same pairs; the shapes and edge cases the tracker meets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_assignment

from pose_service.tracking.assignment import linear_sum_assignment


def test_the_least_cost_matching_as_scipy_finds_it() -> None:
    rng = np.random.default_rng(7)
    for _ in range(3000):
        n, m = (int(x) for x in rng.integers(1, 8, 2))
        cost = rng.random((n, m)) * 10
        cost[rng.random((n, m)) < 0.4] = 1e6  # the tracker's forbidden pairs
        rows, cols = linear_sum_assignment(cost)
        want_rows, want_cols = scipy_assignment(cost)
        assert len(rows) == min(n, m) and (np.diff(rows) > 0).all()
        assert len(set(cols.tolist())) == len(cols)
        assert cost[rows, cols].sum() == pytest.approx(cost[want_rows, want_cols].sum())
        # The pairs that are not forbidden are the same (random costs: no two matchings cost the same).
        mine = {(r, c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < 1e6}
        theirs = {(r, c) for r, c in zip(want_rows, want_cols, strict=True) if cost[r, c] < 1e6}
        assert mine == theirs


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0)])
def test_an_empty_side_matches_nothing(shape: tuple[int, int]) -> None:
    rows, cols = linear_sum_assignment(np.zeros(shape))
    assert rows.size == cols.size == 0


def test_more_rows_than_columns_and_a_known_answer() -> None:
    cost = np.array([[4.0, 1.0], [2.0, 0.5], [0.1, 3.0]])
    rows, cols = linear_sum_assignment(cost)
    assert rows.tolist() == [1, 2] and cols.tolist() == [1, 0]


def test_infinite_entries_go_to_scipy_and_a_bad_shape_is_refused() -> None:
    cost = np.array([[np.inf, 1.0], [2.0, np.inf]])
    rows, cols = linear_sum_assignment(cost)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    with pytest.raises(ValueError, match="two dimensions"):
        linear_sum_assignment(np.zeros(3))
