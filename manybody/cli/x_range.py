"""fit-data's check that the data's x = hbar w / k_B T can tell the loss laws apart (used by the
loss-table, sweep and joint paths; its own module so that the sweep step can call it before it
writes without importing fit-data, which imports the sweep step). The rule itself is
:func:`manybody.laws.x_range.x_range_problem`, shared with the Python fits."""

from __future__ import annotations

import sys

import numpy as np

from manybody.cli.fit_outputs import note
from manybody.laws.inputs import check_tmax
from manybody.laws.x_range import X_HIGH, X_LOW, x_range_problem

__all__ = ["X_HIGH", "X_LOW", "Kelvin", "check_data_window", "check_x_range", "note_window_unused"]


class Kelvin(float):
    """A temperature (K) of --tmin/--tmax that remembers whether its unit was written: the hint
    that a bare number is in K was given after '0.5mK' and '20K' too (a tester, bt200)."""

    unit_given: bool = False

    def __new__(cls, value: float, unit_given: bool) -> Kelvin:
        self = super().__new__(cls, value)
        self.unit_given = unit_given
        return self


def _in_kelvin_hint(*values: float | None) -> bool:
    """Whether any of ``values`` (given, not None) was a bare number: then the unit hint helps
    (a plain float, as the Python API passes, counts as bare)."""
    return any(value is not None and not getattr(value, "unit_given", False) for value in values)


def check_data_window(temperatures, tmax: float | None, tmin: float | None = None, *,
                      note_unused: bool = True) -> None:
    """Refuse a --tmax more than ``TMAX_FACTOR`` times the highest temperature of the data
    (:func:`manybody.laws.inputs.check_tmax`; it warned from session 36 to 49), and warn on
    stderr when --tmin is above all of it: --tmax 800 meant as 0.8 K cut nothing and changed the
    verdict without a word (a helper, session 36). With ``note_unused``, notes an edge that
    excludes no point (:func:`note_window_unused`; off when the caller has more data to count,
    the --shift table)."""
    t = np.asarray(temperatures, dtype=float)
    if t.size == 0:
        return
    top = float(t.max())
    check_tmax(tmax, top, float(t.min()))
    if tmin is not None and tmin > top:
        hint = (f"; --tmin/--tmax are in K: write e.g. {tmin:g}mK for millikelvin"
                if _in_kelvin_hint(tmin) else "")
        print(f"manybody fit-data: warning: --tmin {tmin:g} K is above every temperature of the "
              f"data (up to {top:.4g} K){hint}", file=sys.stderr)
    if note_unused:
        note_window_unused(t, tmin, tmax)


def note_window_unused(temperatures, tmin: float | None, tmax: float | None) -> None:
    """Note each of --tmin/--tmax that excludes no temperature of the data (K): it changes
    nothing, and a --tmax 8 typed for 0.8 K or 8 mK was taken in silence (bt197 F2). One check
    for every fit that takes the window (loss tables, --sweeps, --shift, --power-sweep,
    --velocity)."""
    t = np.asarray(temperatures, dtype=float)
    if t.size == 0:
        return
    low, top = float(t.min()), float(t.max())
    unused = ([(f"--tmin {tmin:g} K is at or below", tmin)] if tmin is not None and tmin <= low
              else []) + ([(f"--tmax {tmax:g} K is at or above", tmax)] if tmax is not None
                          and tmax >= top else [])
    for text, value in unused:
        which = "lowest" if text.startswith("--tmin") else "highest"
        hint = " (--tmin/--tmax are in K; e.g. 800mK for millikelvin)" if _in_kelvin_hint(value) else ""
        note(f"{text} the {which} temperature of the data ({low:.4g} to {top:.4g} K): it excludes "
             f"no point and changes nothing{hint}")


def check_x_range(curves, w: float, frequency: str, tmin: float | None = None,
                  tmax: float | None = None, *, source: str | None = None,
                  quiet: bool = False) -> None:
    """Refuse data whose x = w/T lies entirely outside [X_LOW, X_HIGH] (a unit mistake); warn on
    stderr (unless ``quiet``) when most points do.

    Parameters
    ----------
    curves : sequence of LossCurve
        The data (temperatures in K).
    w : float
        Frequency (K).
    frequency : str
        The frequency as the user gave it, for messages.
    tmin, tmax : float, optional
        The fit window (K).
    source : str, optional
        Where the frequency came from, for messages (default: "--frequency 'F'"; the sweep
        step names the median fitted f0 when no --frequency was given).
    quiet : bool
        No warning (the caller repeats the check and warns itself).

    Raises
    ------
    ValueError
        Every x below X_LOW or above X_HIGH, naming the likely unit mistake.
    """
    t = np.concatenate([c.temperature for c in curves])
    if not quiet:
        check_data_window(t, tmax, tmin)
    t = t[(t >= (tmin or 0.0)) & (t <= (tmax or np.inf))]
    if t.size == 0:
        return
    where = source if source is not None else f"--frequency {frequency!r}"
    text = x_range_problem(t, w, where=where)  # raises when every x is outside
    if text is not None and not quiet:
        print(f"manybody fit-data: warning: {text}", file=sys.stderr)
