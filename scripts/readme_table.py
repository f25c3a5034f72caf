#!/usr/bin/env python
"""Write the README's findings table from the study's summary (never copy numbers by hand).

Usage: python scripts/readme_table.py [--summary results/study/summary.json] [--readme README.md]
       [--extra results/finite_size_n12/summary.json ...] [--check]

Rewrites the block between ``<!-- study-table:start -->`` and ``<!-- study-table:end -->`` in the
README with one row per row of the summary (model, N, realisations, TLS index a, <r>, verdict
exactly as the summary records it), followed by the rows of extra summaries of separate runs
(each with a ``spec.toml`` beside it). --check only compares and exits 1 if the README differs.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.study.summary import index_text, load_rows
from manybody.support.table_text import plus_minus

START = "<!-- study-table:start -->"
END = "<!-- study-table:end -->"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXTRA = ("results/finite_size/summary.json", "results/finite_size_n12/summary.json")


def _pm(value, error, digits: int = 3) -> str:
    """``plus_minus`` of a summary.json entry (null: not a finite number)."""
    return plus_minus(math.nan if value is None else value, math.nan if error is None else error,
                      digits)


def _index(value, error) -> str:
    """The TLS index, "<= -0.999 (at bound)" where the fit ran to the family's bound."""
    return "-" if value is None else index_text(value, math.nan if error is None else error)


def _g(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def describe(row: dict, spec=None) -> str:
    """Plain-words model of one summary row (``spec``: the run's RunSpec, for fixed parameters)."""
    study, value = row["study"], row["value"]
    if study == "dipolar":
        return "independent canonical TLS (dipolar J0 = 0)" if value == 0 else f"dipolar J0 = {_g(value)} K"
    if study == "gaussian":
        return "independent canonical TLS (Gaussian J0 = 0)" if value == 0 else f"Gaussian J0 = {_g(value)} K"
    if study == "admixture":
        return ("independent TLS (GOE weight W = 0)" if value == 0
                else f"TLS + GOE, weight W = {_g(value)} K")  # not the λ column (session 36)
    if study == "random_block":
        return {"flat": "random block, flat density",
                "goe": "GOE block probed at its edge"}.get(value, f"random block, {value}")
    if study == "decomposition":
        return f"decomposition sweep: dipolar J0 = {_g(value)} K"
    if study == "coupling_density":
        j0, eps_max = (float(part) for part in str(value).split(", "))
        return f"dipolar J0 = {j0:g} K, ε_max = {eps_max:g} K"
    coupling = spec.model.coupling if spec is not None else None
    base = f"{coupling.kind} J0 = {coupling.strength:g} K" if coupling is not None else study
    if study == "tunnelling_min":
        return f"{base}, Δ_min = {_g(value)} K"
    if study == "measurement_time":
        return f"{base}, measurement time {_g(value)} s"
    if study == "two_body_stress":
        return f"{base} + two-body stress, rms {_g(value)} γ"
    if row["parameter"] == "n_tls" or value is None:
        return f"{base}, N = {row['n_tls']}"
    return f"{study}: {row['parameter']} = {_g(value)}"


def _spec_for(study: str, summary_path: Path | None):
    """The RunSpec a row came from: a spec.toml beside an extra summary, else the shipped spec."""
    from manybody.runs.spec import RunSpec
    from manybody.study.catalogue import ALL_SPECS
    from manybody.study.specs import load_study_spec

    if summary_path is not None and (summary_path.parent / "spec.toml").is_file():
        return RunSpec.from_toml(summary_path.parent / "spec.toml")
    return load_study_spec(study) if study in ALL_SPECS else None


def _x_range(spec) -> str:
    """', x = 0.2-10' for a separate run's spec (its x = w/T range, which may differ from the
    study's 0.2-12.8 that the table's header defines; a tester, session 39), else ''."""
    if spec is None:
        return ""
    w = float(spec.probe.frequencies[0])
    x = [w / float(t) for t in spec.probe.temperatures]
    return f", x = {min(x):.3g}–{max(x):.3g}"


def _where(path: Path) -> str:
    """``path``'s directory relative to the repository when inside it (as the README shows it)."""
    folder = path.resolve().parent
    try:
        return folder.relative_to(ROOT).as_posix()
    except ValueError:
        return folder.as_posix()


def _number(value, fmt: str = ".3g") -> str:
    return "-" if value is None else format(value, fmt)


def _row(r: dict, model: str) -> str:
    return (f"| {model} | {r['n_tls']} | {r['realisations']} | {_number(r.get('coupling_lambda'))} "
            f"| {_index(r['index'], r['index_error'])} "
            f"| {_index(r.get('index_high_x'), r.get('index_high_x_error'))} "
            f"| {_pm(r.get('resonant_density_rise'), r.get('resonant_density_rise_error'), 2)} "
            f"| {_pm(r['spacing_ratio'], r['spacing_ratio_error'])} "
            f"| {_number(r.get('p_value_family'), '.2g')} | {r['verdict']} |")


#: Columns of a summary row the table shows (besides study and value, which load_rows checks).
COLUMNS = ("parameter", "n_tls", "realisations", "index", "index_error", "spacing_ratio",
           "spacing_ratio_error", "verdict")


def summary_problem(path: Path, needs_rows: bool) -> str | None:
    """Why ``path`` is not a study summary.json the table can be made from, else None: a file
    that is not a list of rows (``{"a":1}``, ``[1,2]``), or ``[]`` for the main summary, ended in
    a TypeError or IndexError traceback, and an empty file was blamed on the README (bt203 F6)."""
    expected = "expected a study's summary.json (a list of rows, as `manybody study` writes)"
    if path.is_file() and path.stat().st_size == 0:
        return f"{str(path)!r} is empty; {expected}"
    try:
        rows = load_rows(path)
    except (ValueError, OSError) as exc:
        return str(exc)
    if needs_rows and not rows:
        return f"{str(path)!r} holds no rows (an empty list); {expected}"
    for i, row in enumerate(rows, 1):
        missing = [k for k in COLUMNS if k not in row]
        if missing:
            return f"{str(path)!r}: row {i} has no {', '.join(missing)}; {expected}"
    return None


def table(summary: Path, extra: list[Path] = ()) -> str:
    """The Markdown block (without markers) for ``summary`` and the ``extra`` summaries."""
    rows = json.loads(summary.read_text())
    specs = {study: _spec_for(study, None) for study in {r["study"] for r in rows}}
    n = sorted({r["n_tls"] for r in rows})
    counts = sorted(r["realisations"] for r in rows)
    lines = [
        f"Default run (`{_where(summary)}/summary.md`; w = 0.1 K; N = {', '.join(map(str, n))} "
        "(TLS, or log2 of a random block's dimension) "
        f"and {counts[0]} to {counts[-1]} realisations per point, as listed per row; a is the TLS "
        "index, 1 for tanh(x/2), 0 for 1 − e⁻ˣ, fitted over the study's x range and over x ≥ 1; λ = "
        "J0/ε_max; ρ_eff rise = ρ_eff(x = 0.2)/ρ_eff(x = 12.8) with ρ_eff = Q⁻¹/tanh(x/2), 1 for a "
        "temperature-independent resonant density; ⟨r⟩ is 0.386 for Poisson and 0.531 for GOE level "
        "statistics; p is the covariance-aware p-value of the family fit; the verdict is the one the "
        "summary records). Generated from `summary.json` by `python scripts/readme_table.py`: do not "
        "edit by hand.",
        "",
        "| model | N | realisations | λ | TLS index a | a (x ≥ 1) | ρ_eff rise | ⟨r⟩ | p | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(r, describe(r, specs[r["study"]])) for r in rows]
    for path in extra:
        for r in json.loads(path.read_text()):
            spec = _spec_for(r["study"], path)
            model = (f"{describe(r, spec)} (separate run{_x_range(spec)}, `{_where(path)}/`)")
            lines.append(_row(r, model))
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with the lines between the START and END markers replaced by ``block``."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"the README must contain exactly one {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def main() -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", type=Path, default=ROOT / "results/study/summary.json",
                        help="the study summary (default: results/study/summary.json)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md",
                        help="the README to update (default: README.md)")
    parser.add_argument("--extra", type=Path, nargs="*",
                        default=[ROOT / p for p in DEFAULT_EXTRA],
                        help="summaries of separate runs appended to the table")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    args = parser.parse_args()
    files = [("--summary", args.summary), ("--readme", args.readme),
             *(("--extra", path) for path in args.extra)]
    for option, path in files:
        if not path.is_file():
            parser.error(f"argument {option}: {str(path)!r} is not a file")
    for option, path in files:
        problem = option != "--readme" and summary_problem(path, needs_rows=option == "--summary")
        if problem:
            parser.error(f"argument {option}: {problem}")
    text = args.readme.read_text()
    try:
        new = replace_block(text, table(args.summary, args.extra))
    except ValueError as exc:
        print(f"error: {args.readme}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"{args.readme}: the study table differs from {args.summary}; run "
                  "python scripts/readme_table.py", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.readme.write_text(new)
        print(f"updated the study table in {args.readme}")
    else:
        print(f"{args.readme} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
