"""Windows of a line and the point arrays every statistic takes.

A *window* is ``(from_km, to_km)`` of a line; chainages are km along it.
Invalid arguments raise :class:`~geotrack.errors.WindowError` or
:class:`~geotrack.errors.ValidationError` naming the valid range.
"""

from __future__ import annotations

__all__ = ["KERNEL", "Window", "check_window"]

import math

import numpy as np
from numpy.typing import ArrayLike

from geotrack.errors import Problem, ValidationError, WindowError

KERNEL = "gaussian"
#: The kernel is cut at this many bandwidths (the weight beyond is < 1e-14).
_TRUNCATE = 8.0

Window = tuple[float, float]


def check_window(from_km: float, to_km: float, *, line_km: float | None = None) -> Window:
    """Check a window of the line and return it as ``(from_km, to_km)`` floats.

    Parameters
    ----------
    from_km, to_km : float
        Chainages of the window's ends, km.
    line_km : float, optional
        Length of the line; when given, the window must lie on it.

    Returns
    -------
    tuple of float

    Raises
    ------
    WindowError
        The window is reversed, of zero length, not finite or off the line.
        The message names the valid range.

    Examples
    --------
    >>> check_window(0, 98.5, line_km=305.607)
    (0.0, 98.5)
    >>> check_window(50, 20, line_km=305.607)
    Traceback (most recent call last):
    ...
    geotrack.errors.WindowError: window 50.0:20.0 km is reversed: give the smaller chainage first...
    """
    try:
        a = float(from_km)
        b = float(to_km)
    except (TypeError, ValueError):
        raise WindowError(
            f"window {from_km!r}:{to_km!r} is not two numbers: give FROM_KM:TO_KM, e.g. 0:98.5"
        ) from None
    valid = f"[0, {line_km:g}] km" if line_km is not None else "the line"
    if not (math.isfinite(a) and math.isfinite(b)):
        raise WindowError(f"window {a}:{b} km is not finite: give two chainages within {valid}.")
    if b < a:
        raise WindowError(
            f"window {a}:{b} km is reversed: give the smaller chainage first ({b}:{a}), "
            f"within {valid}."
        )
    if b == a:
        raise WindowError(
            f"window {a}:{b} km has zero length: give two different chainages within {valid}."
        )
    if line_km is not None:
        tol = 1e-9 * max(1.0, line_km)
        if a < -tol or b > line_km + tol:
            raise WindowError(
                f"window {a}:{b} km is outside the line: the valid range is [0, {line_km:g}] km."
            )
        a = min(max(a, 0.0), line_km)
        b = min(max(b, 0.0), line_km)
    return a, b


def _length_arg(name: str, value: float, window: Window, *, unit: str = "km") -> float:
    length = window[1] - window[0]
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and 0 < v <= length):
        raise ValidationError(
            [
                Problem(
                    name,
                    value,
                    f"must be a length in (0, {length:g}] {unit} (greater than zero and no "
                    f"longer than the window {window[0]:g}–{window[1]:g} km)",
                )
            ]
        )
    return v


def _points(chainage_km: ArrayLike, weights: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(chainage_km, dtype=np.float64).ravel()
    if weights is None:
        w = np.ones_like(c)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != c.shape:
            raise ValidationError(
                [Problem("weights", f"{w.size} values", f"give one weight per point ({c.size})")]
            )
        if np.any(~np.isfinite(w) | (w < 0)):
            raise ValidationError(
                [Problem("weights", "negative or not finite", "weights must be finite and >= 0")]
            )
    if np.any(~np.isfinite(c)):
        raise ValidationError(
            [Problem("chainage_km", "NaN or infinite", "every chainage must be a finite number")]
        )
    return c, w


def _in_window(c: np.ndarray, window: Window) -> np.ndarray:
    return (c >= window[0]) & (c <= window[1])
