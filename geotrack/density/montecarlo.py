"""Shared set-up of the Monte Carlo tests: seeds, simulation counts, batches."""

from __future__ import annotations

import numpy as np

from geotrack.errors import Problem, ValidationError


def _rng(seed: int | None) -> tuple[np.random.Generator, int]:
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError([Problem("seed", seed, "give a non-negative integer")])
    return np.random.default_rng(int(seed)), int(seed)


def _check_sims(simulations: int) -> int:
    if not isinstance(simulations, int | np.integer) or not 1 <= simulations <= 1_000_000:
        raise ValidationError(
            [Problem("simulations", simulations, "give an integer in [1, 1000000], e.g. 999")]
        )
    return int(simulations)


def _batches(n_points: int, simulations: int, budget: int = 4_000_000):
    size = max(1, budget // max(n_points, 1))
    done = 0
    while done < simulations:
        k = min(size, simulations - done)
        yield k
        done += k
