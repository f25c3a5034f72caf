"""Faults of a tester (bt196, F2-F6) in the messages of ``manybody run`` and ``info``: a top-level
key written after a [table] header (TOML puts it in that table) was told "seed is required" or
listed among the table's unknown keys; three equal sweep values were "0.02 twice; 0.02 twice";
an unknown sweep key of model.tls was offered the unrelated model.n_tls; info suggested a
command with the path in double quotes (a pasted $HOME expanded); `run -`, `realisations = [2]`
without a sweep, a repeated TOML key and a --chunk-size beyond the realisations were unclear or
taken without a word."""

from __future__ import annotations

import shlex

import pytest

from manybody.cli.app import main
from manybody.runs.spec import RunSpec
from manybody.support import validate as v

TOP = 'name = "x"\nseed = 1\nrealisations = 2\n'
MODEL = "[model]\nn_tls = 3\n"
TLS = "[model.tls]\nasymmetry_max = 0.3\n"
PROBE = "[probe]\nfrequencies = [0.1]\ntemperatures = [0.02, 0.05]\nobservables = [\"absorption\"]\n"
BROADENING = '[probe.broadening]\nkind = "gaussian"\nwidth = 0.02\n'
SOLVER = '[solver]\ndtype = "float64"\n'
SWEEP = '[sweep]\n"model.n_tls" = [2, 3]\n'
#: The tables of a valid spec, in file order.
TABLES = {"model": MODEL, "model.tls": TLS, "probe": PROBE, "probe.broadening": BROADENING,
          "solver": SOLVER, "sweep": SWEEP}
VALUES = {"name": '"x"', "seed": "1", "realisations": "2"}


def _run(tmp_path, capsys, text: str, *options: str) -> tuple[int, str]:
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    status = main(["run", str(spec), "-o", str(tmp_path / "o.nc"), "--no-progress", *options])
    return status, capsys.readouterr().err


def _spec(top: str, table: str, moved: str) -> str:
    """A valid spec whose ``moved`` line (``seed = 1``) is written at the end of ``table``."""
    return top + "".join(text + (moved if name == table else "") for name, text in TABLES.items())


# ------------------------------------------------------------------------------------------- F4
@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("key", list(VALUES))
@pytest.mark.parametrize("also_at_top", [False, True])
def test_a_top_level_key_after_a_table_header_names_its_table(tmp_path, capsys, table, key,
                                                               also_at_top):
    top = "".join(f"{k} = {value}\n" for k, value in VALUES.items() if also_at_top or k != key)
    status, err = _run(tmp_path, capsys, _spec(top, table, f"{key} = {VALUES[key]}\n"))
    assert status == 2, err
    assert f"{key} = {VALUES[key].replace(chr(34), chr(39))} is inside [{table}]" in err, err
    assert "TOML puts every key written after a [table] header into that table" in err, err
    assert f"write {key} at the top of the file, before the first [table] header" in err, err
    assert ("the top level has" in err) is also_at_top, err
    assert "required" not in err and "unknown key" not in err, err


def test_a_table_key_written_as_a_dotted_key_under_another_table_names_both(tmp_path, capsys):
    text = TOP + MODEL + PROBE + "model.tls.asymmetry_max = 0.5\n" + BROADENING
    status, err = _run(tmp_path, capsys, text)
    assert status == 2, err
    assert "model.tls.asymmetry_max = 0.5 is inside [probe]" in err, err
    assert "write model.tls.asymmetry_max as asymmetry_max under [model.tls]" in err, err


def test_unquoted_dotted_sweep_keys_are_not_taken_for_misplaced_tables(tmp_path):
    text = TOP + MODEL + PROBE + BROADENING + "[sweep]\nmodel.n_tls = [2, 3]\n"
    (tmp_path / "s.toml").write_text(text)
    assert RunSpec.from_toml(tmp_path / "s.toml").shape == (2,)


# ------------------------------------------------------------------------------------------- F2
@pytest.mark.parametrize("values, said", [
    ([0.02, 0.020, 2e-2], "0.02 three times"),
    ([0.02, 0.02, 0.02, 0.02, 0.03], "0.02 four times"),
    ([1, 1, 2, 2, 2], "1 twice; 2 three times"),
])
def test_repeated_values_are_counted_once_per_value(values, said):
    assert v.describe_repeats(v.near_repeats(values)) == said


def test_three_equal_sweep_values_are_said_three_times(tmp_path, capsys):
    text = TOP + MODEL + PROBE + BROADENING + '[sweep]\n"probe.broadening.width" = [0.02, 0.020, 2e-2]\n'
    status, err = _run(tmp_path, capsys, text)
    assert status == 2 and "(0.02 three times); give each once" in err and "twice" not in err, err


# ------------------------------------------------------------------------------------------- F3
@pytest.mark.parametrize("key, table, suggested", [
    ("model.tls.foo", "model.tls", None),
    ("model.tls.asymetry_max", "model.tls", "model.tls.asymmetry_max"),
    ("probe.broadening.widht", "probe.broadening", "probe.broadening.width"),
    ("model.coupling.foo", "model.coupling", None),
])
def test_an_unknown_sweep_key_is_told_the_keys_of_its_own_table(tmp_path, capsys, key, table,
                                                                   suggested):
    text = TOP + MODEL + PROBE + BROADENING + f'[sweep]\n"{key}" = [1, 2]\n'
    status, err = _run(tmp_path, capsys, text)
    assert status == 2, err
    assert f"unknown sweep key {key!r} in sweep; valid keys are {table}." in err, err
    assert f"(the sweepable keys of {table})" in err, err
    assert "model.n_tls" not in err, err
    if suggested:
        assert f"did you mean {suggested!r} for {key!r}?" in err, err
    else:
        assert "did you mean" not in err, err


# ------------------------------------------------------------------------------------------- F5
def test_info_suggests_a_path_quoted_for_the_shell(tmp_path, capsys):
    folder = tmp_path / "out dir"
    folder.mkdir()
    (folder / "it's $HOME.nc").write_bytes(b"")  # a name with a quote and a $
    assert main(["info", str(folder)]) == 2
    err = capsys.readouterr().err
    named = folder / "it's $HOME.nc"
    assert f"e.g. manybody info {shlex.quote(str(named))}" in err, err


# ------------------------------------------------------------------------------------------- F6
def test_a_spec_from_standard_input_is_refused_with_the_way_to_give_one(tmp_path, capsys):
    assert main(["run", "-", "-o", str(tmp_path / "o.nc")]) == 2
    err = capsys.readouterr().err
    assert "cannot be read from standard input; write it to a file" in err, err
    assert "does not exist" not in err, err


@pytest.mark.parametrize("value, hint", [("[2]", "; write realisations = 2"), ("[2, 3]", "")])
def test_a_list_of_realisations_without_a_sweep_asks_for_an_integer(tmp_path, capsys, value, hint):
    text = TOP.replace("realisations = 2", f"realisations = {value}") + MODEL + PROBE + BROADENING
    status, err = _run(tmp_path, capsys, text)
    assert status == 2, err
    assert (f"realisations must be an integer, got {value}: a list gives one count per sweep "
            f"point, and this specification has no [sweep]{hint}") in err, err
    assert "shape ()" not in err, err


@pytest.mark.parametrize("text, key, where, line", [
    (TOP + "seed = 2\n" + MODEL + PROBE, "'seed'", "at the top level", 4),
    (TOP + MODEL + "n_tls = 4\n" + PROBE, "'n_tls'", "of [model]", 6),
    (TOP + MODEL + PROBE + '[sweep]\n"model.n_tls" = [2]\n"model.n_tls" = [\n  3,\n  4]\n',
     '"model.n_tls"', "of [sweep]", 12),
])
def test_a_repeated_toml_key_is_named(tmp_path, capsys, text, key, where, line):
    status, err = _run(tmp_path, capsys, text)
    assert status == 2, err
    assert "Cannot overwrite a value" in err, err
    assert f"the key {key} {where} on line {line} already has a value" in err, err


def test_a_chunk_size_beyond_the_realisations_is_noted(tmp_path, capsys):
    text = TOP + MODEL + PROBE + BROADENING
    status, err = _run(tmp_path, capsys, text, "--chunk-size", "50")
    assert status == 0, err
    assert ("note: --chunk-size 50 runs the same tasks as --chunk-size 2: no sweep point has "
            "more than 2 realisation(s)") in err, err
    status, err = _run(tmp_path, capsys, text, "--chunk-size", "2", "--overwrite")
    assert status == 0 and "--chunk-size" not in err, err
