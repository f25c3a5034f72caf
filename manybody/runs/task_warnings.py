"""Warnings of a sweep's realisations: recorded in the task, shown once per kind by the run.

A warning raised while a realisation is computed (a kernel that reaches no line, a target error
not met) is usually raised by many realisations alike: a 70-realisation run printed 65 identical
lines, one per realisation (a new user, session 35), and a 10^4-realisation run would print 10^4.
The task records them (:func:`recording`, in the worker process or in the run's own), returns them
with its arrays, and the run's process shows the first of each kind, naming its realisation, and
at the end one line with how many realisations raised it (:class:`WarningDigest`). Two warnings
are of one kind when their category and their text with every number taken out are the same.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordedWarning", "WarningDigest", "merged_summaries", "recording", "summary_of"]

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _pattern(message: str) -> str:
    """A warning's message with every number as '#': warnings of one kind share it."""
    return _NUMBER.sub("#", message)


@dataclass(frozen=True)
class RecordedWarning:
    """One warning of one realisation: its category, message and where ("sweep point 1
    (model.n_tls=6), realisation 9")."""

    category: type[Warning]
    message: str
    where: str

    @property
    def kind(self) -> tuple[type[Warning], str]:
        """(category, message with every number replaced by '#')."""
        return self.category, _pattern(self.message)


@contextlib.contextmanager
def recording(where: str, into: list[RecordedWarning]) -> Iterator[None]:
    """Append the warnings raised inside the block to ``into`` as :class:`RecordedWarning` of
    ``where`` instead of printing them (the filters in force still apply: an "error" filter
    still raises)."""
    with warnings.catch_warnings(record=True) as caught:
        yield
    into.extend(RecordedWarning(w.category, str(w.message), where) for w in caught)


@dataclass
class WarningDigest:
    """The run's account of its realisations' warnings: the first of each kind shown at once,
    the others counted and summed up by :meth:`close`."""

    seen: dict[tuple[type[Warning], str], list[RecordedWarning]] = field(default_factory=dict)

    def show(self, records: list[RecordedWarning]) -> None:
        """Show each record whose kind is new (as "where: message"); count the others."""
        for record in records:
            same = self.seen.setdefault(record.kind, [])
            if not same:
                warnings.warn(f"{record.where}: {record.message}", record.category, stacklevel=2)
            same.append(record)

    def summary(self) -> list[dict[str, object]]:
        """One record per kind raised so far, for the results file (attribute
        ``realisation_warnings``; :func:`summary_of`). A missed ``target_error`` was said on the
        terminal only, and the file kept no trace of it (a break test, session 54)."""
        return summary_of((record.category.__name__, record.message, record.where)
                          for records in self.seen.values() for record in records)

    def close(self, resumed: int = 0) -> None:
        """One line per kind raised by more than one realisation: by how many (and how often,
        where a realisation raised it more than once: one per rung of the Chebyshev ladder)."""
        for (category, _), records in self.seen.items():
            count = len({record.where for record in records})
            if count > 1:
                first = records[0].message
                quoted = first if len(first) <= 60 else first[:57] + "..."
                times = f"{len(records)} times, " if len(records) > count else ""
                scope = (" computed in this run (those resumed from the checkpoint are not "
                         "counted)" if resumed else " in all")
                warnings.warn(f"the warning '{quoted}' (shown once above, for "
                              f"{records[0].where}) was raised {times}by {count} realisations"
                              f"{scope}", category, stacklevel=2)
        self.seen.clear()


def summary_of(raised: Iterable[tuple[str, str, str] | list[str]]) -> list[dict[str, Any]]:
    """One record per kind (category, message with every number as '#') of warnings given as
    (category name, message, where), in the order first raised: the category, the first
    message and where, how many realisations (distinct ``where``) raised it and how many
    times. The records of :meth:`WarningDigest.summary`, and of a killed stretch rebuilt from
    its task files (:data:`manybody.runs.checkpoint.TASK_WARNINGS`)."""
    seen: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for category, message, where in raised:
        seen.setdefault((str(category), _pattern(str(message))), []).append((message, where))
    return [{"category": category, "message": records[0][0], "first": records[0][1],
             "realisations": len({where for _, where in records}), "times": len(records)}
            for (category, _), records in seen.items()]


def merged_summaries(stretches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The :meth:`WarningDigest.summary` records of every stretch of a run, in order, merged per
    kind (category, message with every number as '#'): realisations and times summed, the first
    message and where from the earliest stretch. A resumed run's file counted only its last
    stretch's realisations ("from 209 realisation(s)" of 300 that raised it), or none where a
    stopped run had finished every task (a break test, session 54)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for records in stretches:
        for record in records:
            key = (str(record["category"]), _pattern(str(record["message"])))
            if key in merged:
                merged[key]["realisations"] += int(record["realisations"])
                merged[key]["times"] += int(record["times"])
            else:
                merged[key] = dict(record)
    return list(merged.values())
