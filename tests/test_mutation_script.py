"""scripts/mutation_check.py on tiny inputs: the mutants it plants are the intended ones."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("mutation_check",
                                                  ROOT / "scripts" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_check"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_planted_bugs_of_the_issue_are_among_the_mutants():
    mc = load_script()
    found = {(m.module, m.operator, m.original, m.mutated)
             for mod in ("responses", "statistics") for m, *_ in mc.generate(mod)}
    assert ("responses", "const", "0.5", "1.0") in found  # doubled velocity shift
    assert ("responses", "pi", "math.pi", "1.0") in found  # dropped pi in relaxation absorption
    assert ("statistics", "pow", "vec**4", "(vec ** 5)") in found  # wrong power in participation


def test_each_mutant_changes_only_its_span_and_parses():
    mc = load_script()
    source = (ROOT / "manybody" / "simulation" / "observables" / "responses.py").read_text()
    mutants = mc.generate("responses")
    assert mutants
    for mutant, *span in mutants:
        mutated = mc.apply(source, tuple(span), mutant.mutated)
        ast.parse(mutated)
        assert mutated != source
        old, new = source.splitlines(), mutated.splitlines()
        assert len(old) == len(new)
        changed = [i + 1 for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        assert changed == [mutant.line]


def test_list_runs_without_running_tests():
    proc = subprocess.run([sys.executable, "scripts/mutation_check.py", "--list", "--module",
                           "thermo"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("mutants") and "thermo:" in proc.stdout
