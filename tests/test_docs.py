"""The repository stands alone: its documentation and citations point at files inside it.

* every "PHYSICS.md section N" citation (also "sec. N", "§N", "sections N and M") in the code,
  tests, scripts and Markdown refers to a section that exists in docs/PHYSICS.md, whose sections
  are numbered 1, 2, ... without gaps;
* every relative link and image in the Markdown files we write (README, docs/, data/README.md,
  results/**/README.md) points at an existing file, and every #anchor at an existing heading;
* nothing refers to files outside the repository (e.g. a ``../shared`` folder beside it);
* the measured data are the bytes the recorded fits used (sha256 in results/data_fit).

The checkers are plain functions, each also tested on a small bad example so that none of these
tests can pass vacuously.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHYSICS = ROOT / "docs" / "PHYSICS.md"

#: Markdown files written by this project (the upstream READMEs under data/*/ are kept as received).
OWN_MARKDOWN = ["README.md", "docs/*.md", "data/README.md", "results/**/README.md"]
#: Text files that may cite PHYSICS.md or name paths.
SOURCES = ["manybody/**/*.py", "tests/*.py", "scripts/*.py", "manybody/**/*.toml", "pyproject.toml",
           ".ci/run", *OWN_MARKDOWN]

_CITATION = re.compile(
    r"PHYSICS\.md,?\s*(?:section|sections|sec\.|§)\s*(\d+(?:\s*(?:,|and|-|–)\s*\d+)*)", re.IGNORECASE
)
_SELF_CITATION = re.compile(r"\bsections?\s+(\d+(?:\s*(?:,|and|-)\s*\d+)*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
_SECTION = re.compile(r"^##\s+(\d+)\.\s", re.MULTILINE)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_OUTSIDE = re.compile(r"""\.\./shared\b|["']shared["']\s*/|/\s*["']shared["']""")
_PARENTS = re.compile(r"__file__.*\.parents\[(\d+)\]")


def _files(patterns: list[str]) -> list[Path]:
    """Files matching the patterns, without this test file (its examples are bad on purpose)."""
    out: set[Path] = set()
    for pattern in patterns:
        out.update(p for p in ROOT.glob(pattern) if p.is_file())
    out.discard(Path(__file__).resolve())
    return sorted(out)


def _numbers(group: str) -> list[int]:
    """'2', '2 and 4', '2, 3', '2-4' -> the section numbers named."""
    if re.fullmatch(r"\d+\s*[-–]\s*\d+", group.strip()):
        lo, hi = (int(n) for n in re.split(r"[-–]", group))
        return list(range(lo, hi + 1))
    return [int(n) for n in re.findall(r"\d+", group)]


def physics_sections(text: str) -> list[int]:
    """Numbers of the '## N. Title' sections of the physics notes, in order."""
    return [int(n) for n in _SECTION.findall(text)]


def bad_citations(text: str, sections: set[int], pattern: re.Pattern = _CITATION) -> list[str]:
    """Citations in ``text`` naming a section not in ``sections``, as 'line L: citation'."""
    bad = []
    for match in pattern.finditer(text):
        missing = [n for n in _numbers(match.group(1)) if n not in sections]
        if missing:
            line = text.count("\n", 0, match.start(1)) + 1
            bad.append(f"line {line}: {' '.join(match.group(0).split())!r} (no section {missing})")
    return bad


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    text = _FENCE.sub("", markdown)
    seen: dict[str, int] = {}
    anchors = set()
    for _, title in _HEADING.findall(text):
        slug = github_anchor(title)
        count = seen.get(slug, 0)
        anchors.add(slug if count == 0 else f"{slug}-{count}")
        seen[slug] = count + 1
    return anchors


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Relative links/images of a Markdown file whose target file or #anchor does not exist."""
    markdown = path.read_text(encoding="utf-8")
    text = _INLINE_CODE.sub("", _FENCE.sub("", markdown))
    bad = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if root.resolve() not in (dest, *dest.parents):
            bad.append(f"{target} (outside the repository)")
        elif not dest.exists():
            bad.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text(encoding="utf-8")):
            bad.append(f"{target} (no heading #{anchor} in {dest.name})")
    return bad


def outside_references(text: str, depth: int | None = None) -> list[str]:
    """Lines that reach beside the repository: a 'shared' folder (``../shared/...``,
    ``/ "shared" /``), or, for a Python file ``depth`` folders below the root,
    ``Path(__file__)...parents[k]`` with k > depth."""
    bad = []
    for i, line in enumerate(text.splitlines(), 1):
        up = _PARENTS.search(line)
        if _OUTSIDE.search(line) or (depth is not None and up and int(up.group(1)) > depth):
            bad.append(f"line {i}: {line.strip()}")
    return bad


# ----------------------------------------------------------------------------- the checkers


def test_checkers_catch_what_they_are_for(tmp_path):
    assert physics_sections("## 1. A\ntext\n## 2. B\n### 2.1 sub\n") == [1, 2]
    assert bad_citations("see PHYSICS.md section 4 and PHYSICS.md\n    section 12", {4}) == [
        "line 2: 'PHYSICS.md section 12' (no section [12])"]
    assert bad_citations("PHYSICS.md §3, PHYSICS.md sec. 2", {2}) == [
        "line 1: 'PHYSICS.md §3' (no section [3])"]
    assert bad_citations("PHYSICS.md sections 2 and 9", {2}) != []
    assert bad_citations("PHYSICS.md sections 2-4", {2, 4}) != []  # 3 is missing
    assert github_anchor("2. Resonant (golden-rule) absorption") == "2-resonant-golden-rule-absorption"
    (tmp_path / "a.md").write_text("# Top\n[ok](b.md) [gone](c.md) [x](b.md#nope) [y](#top)\n"
                                   "`[code](z.md)` [web](https://example.org)\n")
    (tmp_path / "b.md").write_text("## Real heading\n")
    assert broken_links(tmp_path / "a.md", root=tmp_path) == [
        "c.md (no such file)", "b.md#nope (no heading #nope in b.md)"]
    assert outside_references('x = Path(__file__).parents[2] / "shared" / "data"\nshared data\n'
                              'see `../shared/PHYSICS.md`\nscatter = "shared"') == [
        'line 1: x = Path(__file__).parents[2] / "shared" / "data"', "line 3: see `../shared/PHYSICS.md`"]
    assert outside_references('a = Path(__file__).resolve().parents[2] / "data"', depth=1) != []
    assert outside_references('a = Path(__file__).resolve().parents[1] / "data"', depth=1) == []


# ----------------------------------------------------------------------------- the repository


def test_physics_notes_have_sections_one_to_nine():
    sections = physics_sections(PHYSICS.read_text(encoding="utf-8"))
    assert sections == list(range(1, len(sections) + 1)) and len(sections) >= 9, sections


def test_every_physics_citation_names_an_existing_section():
    sections = set(physics_sections(PHYSICS.read_text(encoding="utf-8")))
    found, bad = 0, []
    for path in _files(SOURCES):
        text = path.read_text(encoding="utf-8")
        found += len(_CITATION.findall(text))
        bad += [f"{path.relative_to(ROOT)} {b}" for b in bad_citations(text, sections)]
    notes = PHYSICS.read_text(encoding="utf-8")
    bad += [f"docs/PHYSICS.md {b}" for b in bad_citations(notes, sections, _SELF_CITATION)]
    assert found >= 5, f"only {found} citations found: has the citation format changed?"
    assert not bad, "citations of missing sections:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", _files(OWN_MARKDOWN), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_existing_files(path):
    assert not broken_links(path), broken_links(path)


def test_readme_links_the_physics_notes_and_the_data_index():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = set(_LINK.findall(_FENCE.sub("", readme)))
    assert {"docs/PHYSICS.md", "data/README.md"} <= targets, sorted(targets)
    assert "source .venv/bin/activate" in readme


def test_nothing_refers_to_files_beside_the_repository():
    """results/**/*.json are records of past runs (their command lines name ../shared) and are
    not checked; everything a user reads or runs is."""
    bad = []
    for path in _files(SOURCES):
        depth = len(path.relative_to(ROOT).parts) - 1 if path.suffix == ".py" else None
        bad += [f"{path.relative_to(ROOT)} {b}"
                for b in outside_references(path.read_text(encoding="utf-8"), depth)]
    assert not bad, "references outside the repository:\n" + "\n".join(bad)


def test_data_are_the_bytes_the_recorded_fits_used():
    records = sorted([*ROOT.glob("results/data_fit/**/fit_results.json"),
                      *ROOT.glob("results/data_fit/**/saturation_results.json")])
    assert records
    checked = 0
    sweeps = 0
    for record in records:
        content = json.loads(record.read_text(encoding="utf-8"))
        if "sweep_inputs" in content:  # fit-data --sweeps: the raw S21 files, then its own table
            for entry in content["sweep_inputs"]:
                local = ROOT / "data" / "resonator_al_inp_s21" / Path(entry["source"]).name
                assert local.is_file(), f"{local} missing (named in {record})"
                assert hashlib.sha256(local.read_bytes()).hexdigest() == entry["sha256"], local
                sweeps += 1
            table = record.parent / Path(content["inputs"][0]["source"]).name
            assert hashlib.sha256(table.read_bytes()).hexdigest() == content["inputs"][0][
                "sha256"], table
            continue
        for entry in content["inputs"]:
            name = Path(entry["source"]).name
            local = ROOT / "data" / "resonator_nb_cpw" / name
            assert local.is_file(), f"{local} missing (named in {record})"
            assert hashlib.sha256(local.read_bytes()).hexdigest() == entry["sha256"], local
            checked += 1
    n_sweep_records = sum("sweep_inputs" in json.loads(r.read_text(encoding="utf-8"))
                          for r in records)
    assert checked == 5 * (len(records) - n_sweep_records)
    assert sweeps == 20 * n_sweep_records


@pytest.mark.parametrize("folder", ["resonator_nb_cpw", "resonator_al_inp_s21"])
def test_each_data_folder_carries_its_licence_and_readme(folder):
    path = ROOT / "data" / folder
    assert (path / "LICENSE").is_file() and (path / "README.md").is_file()
    assert "MIT" in (path / "LICENSE").read_text(encoding="utf-8")
    assert f"`{folder}/`" in (ROOT / "data" / "README.md").read_text(encoding="utf-8")


def _summary_row(study: str, value) -> dict:
    rows = json.loads((ROOT / "results" / "study" / "summary.json").read_text())
    return next(r for r in rows if r["study"] == study and r["value"] == value)


#: The prose of "What the default run says": README text (with {placeholders}) -> the row of
#: results/study/summary.json it quotes (study, value) and its fields, each at the digits shown.
_PROSE = [
    ("a = {index:.3f} ± {index_error:.3f},\np = {p_value_tls:.2f} for tanh", "dipolar", 0.0),
    ("1 − e⁻ˣ (a = {index:.3f} ± {index_error:.3f}, p = {p_value_generic:.2f})",
     "random_block", "flat"),
    ("J0 = 0.003 K: a = {index:.2f} ± {index_error:.2f}", "dipolar", 0.003),
    ("0.01 K: {index:.2f} ± {index_error:.2f}; 0.03 K", "dipolar", 0.01),
    ("0.03 K: {index:.2f} ± {index_error:.2f})", "dipolar", 0.03),
    ("{index_high_x:.2f} ± {index_high_x_error:.2f} for x ≥ 1", "dipolar", 0.01),
]


@pytest.mark.parametrize("text, study, value", _PROSE)
def test_the_readme_prose_quotes_the_committed_study(text, study, value):
    """The README's prose gave the random block a = -0.003 +- 0.061 while the committed summary
    and the README's own table said -0.008 +- 0.066 (a new user, session 34): each number the
    prose quotes is checked against results/study/summary.json at the digits it shows."""
    row = _summary_row(study, value)
    expected = text.format(**row).replace("-", "−")
    readme = (ROOT / "README.md").read_text()
    assert expected in readme, f"README should say {expected!r} (summary.json)"


def test_the_readme_layout_names_every_module():
    """The README's layout block is where a newcomer finds the room for a change; it had left
    out eighteen modules (coherent.py, gof.py, saturation_comparison.py, power_sweep.py, ...;
    a new user, session 37)."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("manybody/units.py          constants"):
                   readme.index("docs/PHYSICS.md            physics notes")]
    missing = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "manybody").rglob("*.py"))
               if p.name not in ("__init__.py", "__main__.py") and p.name not in block]
    assert not missing, f"modules not named in the README's layout: {missing}"
