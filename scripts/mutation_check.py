"""Mutation check of the physics, pipeline and verdict code: plant one small bug at a time, run a
fast test subset, record which mutants the tests kill.

Why not mutmut: mutmut 3 copies the project into ``mutants/`` and runs its own trampolines through
every function, which breaks numba's compiled deposit (``absorption._compiled_deposit``) and
QuSpin's import-time checks, and it mutates every string and keyword argument, so that a run on
these five modules needs thousands of mutants x ~20 s on two shared cores. This script instead
mutates only the operators that make a plausible physics bug, inside chosen functions, and is
deterministic:

- ``pi``: ``math.pi`` / ``np.pi`` -> 1.0 (a dropped factor pi);
- ``const``: a numeric constant c in arithmetic or a comparison -> 2c (0 -> 1);
- ``pow``: ``x ** k`` with a constant k -> ``x ** (k + 1)``;
- ``sign``: unary minus removed;
- ``arith``: ``*`` <-> ``/``, ``+`` <-> ``-``;
- ``compare``: ``<`` <-> ``<=``, ``>`` <-> ``>=`` (the side of a threshold).

Each mutant is written into a copy of the package (the original file is restored with its
timestamp, so numba's cache of unchanged modules stays valid) and the test subset runs with
```pytest -x`` in a subprocess whose PYTHONPATH is the copy. Results: JSON with every mutant
(module, function, line, operator, original and mutated text, killed/survived/timeout, the first
failing test) in ``results/mutation/mutants.json``.

Usage::

    python scripts/mutation_check.py [--module responses ...] [--limit N] [--timeout 180]
        [--out results/mutation/mutants.json] [--list]
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.support import validate as v

ROOT = Path(__file__).resolve().parents[1]

#: Module -> functions (qualified as Class.method for methods) whose bodies are mutated: the code
#: between a realisation and the numbers in a results file, and the verdict thresholds.
TARGETS: dict[str, tuple[str, ...]] = {
    "responses": ("absorption_from", "velocity_shift_from", "relaxation_absorption_from",
                  "relaxation_velocity_shift_from", "physical_observables"),
    "dense": ("respond",),
    "probe": ("Broadening.kernel", "Broadening.dispersive"),
    "absorption": ("PairSpectrum.absorption", "PairSpectrum.dispersion", "_exact_per_state",
                   "velocity_shift", "emission_stripped", "transition_lines"),
    "relaxation": ("_rate_kernel", "transition_rates", "RelaxationModes.susceptibility",
                   "_MasterEquation.__init__", "_MasterEquation.generator",
                   "_MasterEquation.modes", "relaxation_absorption", "relaxation_velocity_shift",
                   "jackle_rate"),
    "statistics": ("spacing_ratios", "participation_ratio", "degeneracy_tolerance"),
    "thermo": ("boltzmann_weights", "_boltzmann", "_moments", "specific_heat", "entropy",
               "schottky"),
    "ensembles": ("absorption_normalisation", "draw_tls"),
    "laws/verdict": (),  # filled from the module: every function (verdict thresholds)
    "laws/shapes": ("shape_ratio",),
    "measured/comparison": (),  # every function: the law comparison and discrimination power
}

#: Operators mutated by default per module: every operator on the short paths (pipeline,
#: statistics, thermo, models, verdicts); the physics-constant operators only in the long modules
#: (absorption, relaxation), whose ``*``/``+`` swaps are mostly in validation and grid code.
DEFAULT_OPERATORS: dict[str, tuple[str, ...]] = {
    "probe": ("pi", "const", "pow", "sign"),
    "absorption": ("pi", "const", "pow", "sign"),
    "relaxation": ("pi", "const", "pow", "sign"),
    "laws/verdict": ("const", "compare"),
    "laws/shapes": ("const", "compare"),
    "measured/comparison": ("const", "compare"),
}
ALL_OPERATORS = ("pi", "const", "pow", "sign", "arith", "compare")

TRUTH = ["tests/test_truth.py::test_dense_results_file_equals_independent_computation[lorentzian]",
         "tests/test_truth.py::test_independent_tls_closed_forms_in_results_file"]
#: File of each module (below manybody/).
MODULE_PATHS: dict[str, str] = {
    "responses": "simulation/observables/responses", "dense": "simulation/solvers/dense",
    "probe": "config/probe", "absorption": "simulation/observables/absorption",
    "relaxation": "simulation/observables/relaxation",
    "statistics": "simulation/observables/statistics", "thermo": "simulation/observables/thermo",
    "ensembles": "simulation/ensembles", "laws/verdict": "laws/verdict", "laws/shapes": "laws/shapes",
    "measured/comparison": "measured/comparison",
}
#: Fast test subset per module, independent truth tests first (they kill most mutants).
TESTS: dict[str, list[str]] = {
    "responses": TRUTH,
    "dense": TRUTH,
    "ensembles": [*TRUTH, "tests/test_ensemble_quadrature.py", "tests/test_models.py"],
    "absorption": [*TRUTH, "tests/test_invariants.py::test_detailed_balance_on_the_absorption_lines",
                   "tests/test_invariants.py::test_k0_many_body_spectrum_is_the_tanh_weighted_single_tls_lines",
                   "tests/test_invariants.py::test_first_moment_sum_rule_in_closed_form",
                   "tests/test_ensemble_quadrature.py::test_canonical_absorption_is_tanh_by_quadrature",
                   "tests/test_invariants.py::test_emission_stripped_absolute_value_for_one_tls",
                   "tests/test_invariants.py::"
                   "test_histogram_dispersive_kernel_is_the_box_averaged_principal_value",
                   "tests/test_absorption.py::test_one_tls_single_line_weight",
                   "tests/test_absorption.py::test_binned_method_matches_exact",
                   "tests/test_absorption.py::test_emission_stripped_of_one_tls_is_fermi_function",
                   "tests/test_absorption.py::test_one_tls_velocity_shift_low_frequency_limit"],
    "probe": [*TRUTH, "tests/test_invariants.py::"
              "test_histogram_dispersive_kernel_is_the_box_averaged_principal_value",
              "tests/test_absorption.py::test_one_tls_single_line_weight",
              "tests/test_absorption.py::test_binned_method_matches_exact"],
    "relaxation": [*TRUTH, "tests/test_invariants.py::"
                   "test_independent_tls_relaxation_closed_form_with_a_stress_scale",
                   *(f"tests/test_relaxation.py::{name}" for name in (
        "test_single_tls_master_equation_rate_is_jackle",
        "test_single_tls_susceptibility_is_the_debye_relaxator",
        "test_rates_detailed_balance_sign_and_boltzmann_stationary_state",
        "test_independent_tls_many_body_equals_sum_of_single_tls",
        "test_krylov_quadrature_matches_dense_modes_for_coupled_tls",
        "test_canonical_plateau_is_half_of_the_resonant_plateau",
        "test_master_equation_over_the_canonical_ensemble_reaches_the_plateau"))],
    "statistics": [*(f"tests/test_invariants.py::{name}" for name in (
        "test_participation_ratio_of_an_even_spread_is_the_number_of_states",
        "test_participation_ratio_bounds_and_two_state_closed_form",
        "test_spacing_ratio_definition", "test_spacing_ratio_edges_and_bad_window",
        "test_poisson_spacing_ratio_for_any_seed")), "tests/test_statistics.py", *TRUTH],
    "thermo": ["tests/test_absorption.py::test_specific_heat_is_schottky_sum", *TRUTH],
    "laws/shapes": ["tests/test_invariants.py::test_shape_ratio_is_exact_for_a_cubic_in_ln_x",
                    "tests/test_analysis.py"],
    "laws/verdict": ["tests/test_fitdata_hardening.py", "tests/test_analysis.py",
                     "tests/test_datafit.py::test_right_law_preferred_and_index_recovered"],
    "measured/comparison": ["tests/test_fitdata_hardening.py", "tests/test_analysis.py",
                            "tests/test_datafit.py::test_right_law_preferred_and_index_recovered"],
}


@dataclass
class Mutant:
    module: str
    function: str
    line: int
    operator: str
    original: str
    mutated: str
    status: str = "pending"
    failed_test: str = ""
    seconds: float = 0.0


def _functions(tree: ast.Module):
    """(qualified name, node) of every function and method."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    yield f"{node.name}.{sub.name}", sub


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_number(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
            and not isinstance(node.value, bool))


def _candidates(node: ast.AST, parents) -> list[tuple[str, ast.AST, ast.AST]]:
    """(operator, node to replace, replacement) for one AST node."""
    out = []
    parent = parents.get(node)
    if isinstance(node, ast.Attribute) and node.attr == "pi" and isinstance(node.value, ast.Name):
        out.append(("pi", node, ast.Constant(1.0)))
    if _is_number(node) and isinstance(parent, ast.BinOp | ast.Compare | ast.UnaryOp):
        if not (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow)
                and parent.right is node):
            value = node.value * 2 if node.value != 0 else 1
            out.append(("const", node, ast.Constant(value)))
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow) and _is_number(node.right):
            out.append(("pow", node, ast.BinOp(node.left, ast.Pow(),
                                               ast.Constant(node.right.value + 1))))
        swap = {ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Add: ast.Sub, ast.Sub: ast.Add}
        if type(node.op) in swap:
            out.append(("arith", node, ast.BinOp(node.left, swap[type(node.op)](), node.right)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append(("sign", node, node.operand))
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
        if type(node.ops[0]) in swap:
            out.append(("compare", node, ast.Compare(node.left, [swap[type(node.ops[0])]()],
                                                     node.comparators)))
    return out


def _is_docstring(node: ast.AST, parents) -> bool:
    return isinstance(parents.get(node), ast.Expr)


def generate(module: str) -> list[tuple[Mutant, int, int, int, int]]:
    """Every mutant of ``module``'s target functions with its source span (1-based lines)."""
    path = ROOT / "manybody" / f"{MODULE_PATHS[module]}.py"
    source = path.read_text()
    tree = ast.parse(source)
    parents = _parents(tree)
    wanted = TARGETS[module]
    out = []
    for name, func in _functions(tree):
        if wanted and name not in wanted:
            continue
        for node in ast.walk(func):
            if _is_docstring(node, parents) or isinstance(node, ast.JoinedStr):
                continue
            for op, target, replacement in _candidates(node, parents):
                original = ast.get_source_segment(source, target)
                if original is None:
                    continue
                text = ast.unparse(replacement)
                if isinstance(replacement, ast.BinOp | ast.Compare):
                    text = f"({text})"
                out.append((Mutant(module, name, target.lineno, op, original, text),
                            target.lineno, target.col_offset, target.end_lineno,
                            target.end_col_offset))
    return out


def apply(source: str, span: tuple[int, int, int, int], text: str) -> str:
    lines = source.splitlines(keepends=True)
    l0, c0, l1, c1 = span
    # ast columns are UTF-8 byte offsets
    head = lines[l0 - 1].encode()[:c0].decode()
    tail = lines[l1 - 1].encode()[c1:].decode()
    return "".join(lines[:l0 - 1]) + head + text + tail + "".join(lines[l1:])


def run_tests(copy: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(copy), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
           "--no-header", "-m", "not slow", *tests]
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    if proc.returncode == 0:
        return "survived", ""
    failed = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return "killed", failed[0][:200] if failed else f"exit {proc.returncode}"


def main(argv=None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(TARGETS),
                        help="module to mutate; repeat for more (default: all)")
    parser.add_argument("--operator", action="append",
                        choices=ALL_OPERATORS, help="default: DEFAULT_OPERATORS per module")
    parser.add_argument("--line", type=v.cli_integer(1), action="append",
                        help="only mutants on these source lines")
    parser.add_argument("--limit", type=v.cli_integer(1), default=None, help="run at most N mutants")
    parser.add_argument("--timeout", type=v.cli_real(0, low_open=True), default=240.0,
                        help="time limit of one test run, in s (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "results" / "mutation" / "mutants.json"),
                        help="JSON file of results (default: results/mutation/mutants.json)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run of each test subset")
    parser.add_argument("--skip", default=None,
                        help="JSON of an earlier run: mutants recorded there are not rerun")
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out, replaces=not args.list,
                              overwrite=args.overwrite)  # --list writes nothing
    modules = args.module or list(TARGETS)
    todo = [m for mod in modules for m in generate(mod)
            if m[0].operator in (args.operator or DEFAULT_OPERATORS.get(mod, ALL_OPERATORS))]
    if args.line:
        todo = [t for t in todo if t[0].line in args.line]
    if args.skip:
        seen = {(m["module"], m["line"], m["operator"], m["original"], m["mutated"])
                for m in json.loads(Path(args.skip).read_text())}
        todo = [t for t in todo if (t[0].module, t[0].line, t[0].operator, t[0].original,
                                    t[0].mutated) not in seen]
    if args.limit is not None:
        todo = todo[:args.limit]
    if args.list:
        for m, *_ in todo:
            print(f"{m.module}:{m.line} {m.function} [{m.operator}] {m.original!r} -> {m.mutated!r}")
        print(f"{len(todo)} mutants")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="mutation_") as tmp:
        copy = Path(tmp) / "tree"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", "results", "*.nc",
                                                                  "__pycache__"))
        for mod in [] if args.no_baseline else modules:  # every subset passes unmutated
            status, failed = run_tests(copy, TESTS[mod], args.timeout)
            if status != "survived":
                print(f"baseline test subset of {mod} fails ({status}): {failed}",
                      file=sys.stderr)
                return 1
        for i, (mutant, *span) in enumerate(todo):
            target = copy / "manybody" / f"{MODULE_PATHS[mutant.module]}.py"
            pristine = ROOT / "manybody" / f"{MODULE_PATHS[mutant.module]}.py"
            target.write_text(apply(pristine.read_text(), tuple(span), mutant.mutated))
            start = time.perf_counter()
            try:
                mutant.status, mutant.failed_test = run_tests(copy, TESTS[mutant.module],
                                                              args.timeout)
            finally:
                shutil.copy2(pristine, target)
            mutant.seconds = round(time.perf_counter() - start, 1)
            done.append(mutant)
            print(f"[{i + 1}/{len(todo)}] {mutant.status:8s} {mutant.module}:{mutant.line} "
                  f"[{mutant.operator}] {mutant.original!r} -> {mutant.mutated!r} "
                  f"({mutant.seconds} s)", flush=True)
            out.write_text(json.dumps([asdict(m) for m in done], indent=1) + "\n")
    killed = sum(m.status != "survived" for m in done)
    print(f"{killed}/{len(done)} killed; survivors:")
    for m in done:
        if m.status == "survived":
            print(f"  {m.module}:{m.line} {m.function} [{m.operator}] "
                  f"{m.original!r} -> {m.mutated!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
