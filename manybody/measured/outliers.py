"""Lone points of a measured curve: a few values that stand alone off the smooth curve through
their neighbouring temperatures (a Qi typed 10x or 3x off, a failed resonator fit, a last line
cut short), found before a law is fitted to them.

The curve is drawn straight in the values against ln T between neighbouring points (log loss for
loss tables, :func:`lone_points`; a relative shift for velocity and frequency-shift tables,
``manybody.measured.velocity``). One such point among 19 clean tanh points turned "TLS" into a
confident "beyond generic" without a word (a tester, bt219 F1, F3); looked at one point at a
time, two typos side by side hid each other (bt223 F2, F3); judged against a line extrapolated
over a long lever, clean ends were named (a sweep over random grids, session 63).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

#: A lone point lies more than LONE_RATIO off the curve through its neighbouring temperatures
#: (straight in log loss against log T), where the curve without it follows its own neighbours
#: within LONE_SMOOTH_RATIO and the typical point its neighbours LONE_CONTRAST times more
#: closely; at least LONE_MIN_POINTS temperatures.
LONE_RATIO = 2.5
LONE_SMOOTH_RATIO = 1.5
LONE_CONTRAST = 5.0
LONE_MIN_POINTS = 6
#: At most one point in 1/LONE_SHARE (at least one) is named lone, and at most LONE_MAX in all
#: (more typos than that is another table), among the LONE_CANDIDATES points farthest off their
#: neighbours and the neighbours of those beyond the ratio.
LONE_SHARE = 1 / 6
LONE_MAX = 4
LONE_CANDIDATES = 10
#: An end point is judged only where its distance to the nearest other point is at most
#: LONE_END_LEVER times the spacing of the two points its line is drawn through (in ln T), and
#: against that line and the nearest value both (the smaller offset, if both have one sign).
LONE_END_LEVER = 4.0


def lone_points(temperature: np.ndarray, log_loss: np.ndarray) -> list[tuple[int, float]]:
    """(index, factor) of the points that lie alone more than :data:`LONE_RATIO` off the curve
    through their neighbouring temperatures, the factor > 1 above it and < 1 below.

    The curve is straight in log loss against log T (:func:`lone_offsets`, with offsets
    ln LONE_RATIO apart and ln LONE_SMOOTH_RATIO smooth).

    Parameters
    ----------
    temperature : numpy.ndarray, shape (n,)
        Distinct temperatures (K), ascending.
    log_loss : numpy.ndarray, shape (n,)
        ln of the loss at each (the mean over repeats).
    """
    return [(i, math.exp(offset)) for i, offset in lone_offsets(
        temperature, log_loss, math.log(LONE_RATIO), math.log(LONE_SMOOTH_RATIO))]


def lone_offsets(temperature: np.ndarray, values: np.ndarray, apart: float,
                 smooth: float, rest_max: bool = False,
                 end_lever: float = LONE_END_LEVER) -> list[tuple[int, float]]:
    """(index, offset) of the points that lie alone more than ``apart`` off the curve through
    their neighbouring temperatures (offset = value - the curve there), ascending in index.

    The curve is straight in ``values`` against ln T through the two nearest other points that
    are not themselves lone (the two on either side within, the next two at an end, judged as
    :data:`LONE_END_LEVER` says; beside an end too far out to tell, a point is judged as an end
    itself). Below the line, a curve bending upwards (a convex climb, quasiparticles) may lie
    down to the lines continuing the segments on either side. The lone points are the largest
    set (:data:`LONE_SHARE`, :data:`LONE_MAX`, :data:`LONE_CANDIDATES`) such that without them
    the curve is smooth around each (its neighbours within ``smooth`` of the line through their
    own neighbours: a climb over two points is no lone point), the other points follow their
    neighbours :data:`LONE_CONTRAST` times more closely than each lone point (their median
    offset, or with ``rest_max`` their largest: noisy data and a smooth curve's under-sampled
    bend flag nothing), and no two adjacent ones sit at an end (a climb). Fewer than
    :data:`LONE_MIN_POINTS` temperatures: none.

    Parameters
    ----------
    temperature : numpy.ndarray, shape (n,)
        Distinct temperatures (K), ascending.
    values : numpy.ndarray, shape (n,)
        The curve's values at each (ln of a loss, or a relative shift).
    apart, smooth : float
        In the units of ``values``.
    rest_max : bool
        Compare with the other points' largest offset instead of their median.
    end_lever : float
        :data:`LONE_END_LEVER` for this curve.
    """
    if temperature.size < LONE_MIN_POINTS:
        return []
    return _LoneSearch(np.log(np.asarray(temperature, dtype=np.float64)),
                       np.asarray(values, dtype=np.float64), apart, smooth, rest_max,
                       end_lever).run()


class _LoneSearch:
    """The search of :func:`lone_offsets` over one curve: ``u`` = ln T and ``y`` the values."""

    def __init__(self, u: np.ndarray, y: np.ndarray, apart: float, smooth: float,
                 rest_max: bool, end_lever: float = LONE_END_LEVER) -> None:
        self.u, self.y, self.n = u, y, u.size
        self.apart, self.smooth, self.rest_max = apart, smooth, rest_max
        self.end_lever = end_lever

    def run(self) -> list[tuple[int, float]]:
        candidates = self.candidates()
        for size in range(min(max(1, int(self.n * LONE_SHARE)), LONE_MAX), 0, -1):
            best = None
            for lone in itertools.combinations(candidates, size):
                found = self.check(lone)
                if found is not None and (best is None or min(abs(o) for _, o in found)
                                          > min(abs(o) for _, o in best)):
                    best = found
            if best is not None:
                return best
        return []

    def candidates(self) -> list[int]:
        """The points off their neighbours by half the threshold (a neighbour's own typo halves
        a point's offset), the largest few, and the neighbours of those beyond it (a 3x typo
        beside a 5x one lies near the line through it: a tester, bt229 F1)."""
        everyone = np.arange(self.n)
        single = np.abs([self.offset(i, np.delete(everyone, i)) for i in range(self.n)])
        ranked = sorted(np.flatnonzero(single > 0.5 * self.apart), key=lambda i: -single[i])
        chosen = {int(i) for i in ranked[:LONE_CANDIDATES // 2]}
        for i in ranked[:LONE_CANDIDATES // 2]:
            if single[i] > self.apart:
                chosen |= {j for j in (i - 1, i + 1) if 0 <= j < self.n}
        chosen |= {int(i) for i in ranked[:max(LONE_CANDIDATES - len(chosen), 0)]}
        return sorted(chosen)

    def check(self, lone: tuple[int, ...]) -> list[tuple[int, float]] | None:
        """The (index, offset) of ``lone`` if they stand alone as :func:`lone_offsets` says,
        else None."""
        kept = np.setdiff1d(np.arange(self.n), lone)
        if kept.size < LONE_MIN_POINTS - 1:
            return None
        for i, j in itertools.pairwise(lone):
            if j == i + 1 and (i == 0 or j == self.n - 1):  # two adjacent at an end: a climb
                return None
        own = np.abs(self.own_offsets(kept))
        position = {int(p): k for k, p in enumerate(kept)}
        ends = {int(kept[0]), int(kept[-1])}
        near, judged = set(), []
        for i in lone:
            # beside an end too far out to tell, a point is judged as an end itself (the end,
            # counted as smooth, a typo itself, had a clean row named in place of the typo
            # beside it; a tester, bt229 F2)
            around = np.array([p for p in kept if not (p in ends and p in self.bracket(i, kept)
                                                       and np.isnan(own[position[p]]))])
            if around.size < 3:
                return None
            near |= set(self.bracket(i, around))
            judged.append((i, around))
        if not all(own[position[p]] < self.smooth for p in near):
            return None
        rest = np.array([d for p, d in zip(kept, own, strict=True)
                         if int(p) not in near and np.isfinite(d)])
        typical = (float(np.max(rest) if self.rest_max else np.median(rest)) if rest.size
                   else math.inf)
        found = []
        for i, around in judged:
            offset = self.offset(i, around)
            if not (abs(offset) > self.apart and LONE_CONTRAST * typical < abs(offset)):
                return None
            found.append((int(i), offset))
        return found

    def line(self, at, a, b):
        """The line through points ``a`` and ``b`` at ``at`` (indices, in ln T)."""
        u, y = self.u, self.y
        return y[a] + (y[b] - y[a]) * (u[at] - u[a]) / (u[b] - u[a])

    def own_offsets(self, kept: np.ndarray) -> np.ndarray:
        """Each kept point off its kept neighbours (the ends as an end point is judged: an
        extrapolated knee of a 6-point grid had the second point's typo never named; a tester,
        bt223 F4)."""
        a, b = np.empty_like(kept), np.empty_like(kept)
        a[1:-1], b[1:-1] = kept[:-2], kept[2:]
        a[0], b[0], a[-1], b[-1] = kept[1], kept[2], kept[-3], kept[-2]
        offsets = self.y[kept] - self.line(kept, a, b)
        offsets[0] = self.offset(int(kept[0]), kept[1:])
        offsets[-1] = self.offset(int(kept[-1]), kept[:-1])
        return offsets

    @staticmethod
    def bracket(i: int, kept: np.ndarray) -> tuple[int, int]:
        """The kept points the line at ``i`` is drawn through."""
        k = int(np.searchsorted(kept, i))
        if 0 < k < kept.size:
            return int(kept[k - 1]), int(kept[k])
        return (int(kept[0]), int(kept[1])) if k == 0 else (int(kept[-2]), int(kept[-1]))

    def offset(self, i: int, kept: np.ndarray) -> float:
        """y_i off the curve through the kept points around it; NaN where that cannot be told
        (an end point too far out)."""
        u, y = self.u, self.y
        a, b = self.bracket(i, kept)
        offset = float(y[i] - self.line(i, a, b))
        if a < i < b:
            return self.within_bend(i, a, b, kept, offset)
        # at an end the line is extrapolated, over a lever that can be long (a first point far
        # below two close ones): the offset from the nearest value too, the smaller one if both
        # have one sign, else none (a clean curve's end was named; a sweep of random grids)
        near, far = (b, a) if b < i else (a, b)
        if abs(u[i] - u[near]) > self.end_lever * abs(u[far] - u[near]):
            return math.nan
        # nor where the line bends at once: the next point off it by the smoothness (a peak of
        # delta v/v(T) just above a lone base point put it 90 % of the span below the line;
        # a tester, bt229 F7)
        k = int(np.searchsorted(kept, far))
        beyond = k + 1 if far > near else k - 1
        if 0 <= beyond < kept.size and abs(
                y[kept[beyond]] - self.line(int(kept[beyond]), near, far)) >= self.smooth:
            return math.nan
        flat = float(y[i] - y[near])
        return min(offset, flat, key=abs) if offset * flat > 0 else 0.0

    def within_bend(self, i: int, a: int, b: int, kept: np.ndarray, offset: float) -> float:
        """The line offset of an interior point, less what a curve bending upwards allows below
        the line: a convex curve (a loss climbing ever faster, quasiparticles) lies below it,
        down to the lines continuing the segments on either side, each a bound of a convex
        curve (a clean point before a gap and a quasiparticle climb was named; a tester, bt229
        F3). Above the line (the concave knee of tanh) the line stands: a bound extended back
        from a steep segment allowed a 10x typo there."""
        u, y = self.u, self.y
        k, m = int(np.searchsorted(kept, a)), int(np.searchsorted(kept, b))
        outer = []
        if k > 0:
            c = int(kept[k - 1])
            outer.append(y[a] + (y[a] - y[c]) / (u[a] - u[c]) * (u[i] - u[a]))
        if m + 1 < kept.size:
            c = int(kept[m + 1])
            outer.append(y[b] - (y[c] - y[b]) / (u[c] - u[b]) * (u[b] - u[i]))
        if offset < 0 and outer and max(outer) < y[i] - offset:
            return min(0.0, float(y[i] - max(outer)))
        return offset
