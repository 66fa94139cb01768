"""Compiled kernels of :mod:`geotrack.linear` (imported by it only when points are located).

The bounding-volume-hierarchy search and the Z-order keys, compiled with numba
(cached on disk, see :mod:`geotrack._jit`).  The locate kernels take the line and
its tree as one tuple ``tree = (xs, ys, cum, seglen, nx0, ny0, nx1, ny1, left,
right)`` and write into ``out = (chain, off, dist, segi)``.  No I/O, no checks: the callers in
:mod:`geotrack.linear` validate every argument.
"""

from __future__ import annotations

__all__ = ["STACK", "locate_parallel", "locate_serial", "morton16"]

import math

import numpy as np

from geotrack._jit import njit, prange

STACK = 128  # traversal stack per thread; the tree depth is at most ~log2(segments) + 1


@njit()
def _seg_dist(px, py, ax, ay, bx, by):  # pragma: no cover - compiled
    # GEOS Distance::pointToSegment, operation for operation.
    if ax == bx and ay == by:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    r = ((px - ax) * dx + (py - ay) * dy) / len2
    if r <= 0.0:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if r >= 1.0:
        return math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    s = ((ay - py) * dx - (ax - px) * dy) / len2
    return abs(s) * math.sqrt(len2)


@njit()
def _box_d2(px, py, x0, y0, x1, y1):  # pragma: no cover - compiled
    dx = 0.0
    if px < x0:
        dx = x0 - px
    elif px > x1:
        dx = px - x1
    dy = 0.0
    if py < y0:
        dy = y0 - py
    elif py > y1:
        dy = py - y1
    return dx * dx + dy * dy


@njit()
def _cross_unit(xs, ys, seglen, s, px, py):  # pragma: no cover - compiled
    # Cross product of segment s's unit direction with (p - segment start).
    if seglen[s] == 0.0:
        return 0.0
    dx = xs[s + 1] - xs[s]
    dy = ys[s + 1] - ys[s]
    return (dx * (py - ys[s]) - dy * (px - xs[s])) / seglen[s]


@njit()
def _locate_range(
    xs,
    ys,
    cum,
    seglen,
    nx0,
    ny0,
    nx1,
    ny1,
    left,
    right,
    leaf_size,
    px,
    py,
    perm,
    lo,
    hi,
    stack,
    chain,
    off,
    dist,
    segi,
):  # pragma: no cover - compiled
    # Points perm[lo:hi] are visited in that order (spatially sorted, for cache
    # locality); results are written at each point's own index.
    nseg = xs.shape[0] - 1
    for ii in range(lo, hi):
        i = perm[ii]
        x = px[i]
        y = py[i]
        best = np.inf
        bs = -1
        stack[0] = 0
        sp = 1
        while sp > 0:
            sp -= 1
            node = stack[sp]
            bound = best * best * (1.0 + 1e-9) + 1e-12
            if _box_d2(x, y, nx0[node], ny0[node], nx1[node], ny1[node]) > bound:
                continue
            if left[node] < 0:
                blk = -1 - left[node]
                s0 = blk * leaf_size
                s1 = min(nseg, s0 + leaf_size)
                for s in range(s0, s1):
                    d = _seg_dist(x, y, xs[s], ys[s], xs[s + 1], ys[s + 1])
                    if d < best or (d == best and s < bs):
                        best = d
                        bs = s
            else:
                a = left[node]
                c = right[node]
                da = _box_d2(x, y, nx0[a], ny0[a], nx1[a], ny1[a])
                dc = _box_d2(x, y, nx0[c], ny0[c], nx1[c], ny1[c])
                # push the farther child first so the nearer one is searched first
                if da <= dc:
                    if dc <= bound:
                        stack[sp] = c
                        sp += 1
                    if da <= bound:
                        stack[sp] = a
                        sp += 1
                else:
                    if da <= bound:
                        stack[sp] = a
                        sp += 1
                    if dc <= bound:
                        stack[sp] = c
                        sp += 1
        if bs < 0:
            chain[i] = np.nan
            off[i] = np.nan
            dist[i] = np.nan
            segi[i] = -1
            continue
        s = bs
        ax = xs[s]
        ay = ys[s]
        bx = xs[s + 1]
        by = ys[s + 1]
        # GEOS LineSegment::projectionFactor and segmentNearestMeasure
        if x == ax and y == ay:
            r = 0.0
        elif x == bx and y == by:
            r = 1.0
        else:
            ddx = bx - ax
            ddy = by - ay
            r = ((x - ax) * ddx + (y - ay) * ddy) / (ddx * ddx + ddy * ddy)
        if r <= 0.0:
            m = cum[s]
        elif r <= 1.0:
            m = cum[s] + r * seglen[s]
        else:
            m = cum[s] + seglen[s]
        # side: at an interior vertex use both adjacent (non-degenerate) segments
        # side: at a vertex also ask the adjacent (non-degenerate) segment; if the two
        # cancel (a hairpin turn), the segment holding the nearest point decides
        cr0 = _cross_unit(xs, ys, seglen, s, x, y)
        adj = 0.0
        if not (r > 0.0 and r < 1.0) or seglen[s] == 0.0:
            if r <= 0.0 or seglen[s] == 0.0:
                k = s - 1
                while k >= 0 and seglen[k] == 0.0:
                    k -= 1
                if k >= 0:
                    adj += _cross_unit(xs, ys, seglen, k, x, y)
            if r >= 1.0 or seglen[s] == 0.0:
                k = s + 1
                while k < nseg and seglen[k] == 0.0:
                    k += 1
                if k < nseg:
                    adj += _cross_unit(xs, ys, seglen, k, x, y)
        cr = cr0 + adj
        if abs(cr) <= 1e-9 * (abs(cr0) + abs(adj)):
            cr = cr0 if cr0 != 0.0 else adj
        chain[i] = m
        dist[i] = best
        if best == 0.0 or cr == 0.0:
            off[i] = 0.0
        elif cr > 0.0:
            off[i] = best
        else:
            off[i] = -best
        segi[i] = s


@njit(parallel=True)
def locate_parallel(tree, leaf_size, px, py, perm, out):  # pragma: no cover - compiled
    n = perm.shape[0]
    block = 256
    nblocks = (n + block - 1) // block
    for b in prange(nblocks):
        stack = np.empty(STACK, dtype=np.int64)
        lo = b * block
        _locate_range(*tree, leaf_size, px, py, perm, lo, min(n, lo + block), stack, *out)


@njit()
def locate_serial(tree, leaf_size, px, py, perm, out):  # pragma: no cover - compiled
    stack = np.empty(STACK, dtype=np.int64)
    _locate_range(*tree, leaf_size, px, py, perm, 0, perm.shape[0], stack, *out)


@njit()
def morton16(px, py, x0, y0, scale, out):  # pragma: no cover - compiled
    # 16-bit Morton (Z-order) key of each point on a 256 x 256 grid over the line's box
    for i in range(px.shape[0]):
        fx = (px[i] - x0) * scale
        fy = (py[i] - y0) * scale
        ix = 0
        iy = 0
        if fx > 0.0:  # NaN compares false and lands in cell 0
            ix = min(255, int(fx))
        if fy > 0.0:
            iy = min(255, int(fy))
        key = 0
        for bit in range(8):
            key |= ((ix >> bit) & 1) << (2 * bit)
            key |= ((iy >> bit) & 1) << (2 * bit + 1)
        out[i] = key
