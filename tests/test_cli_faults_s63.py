"""Session 63 (a tester, bt223 F11): a pasted minus sign in an option checked after parsing
('--gap \u22121', '--frequency \u22125GHz', '--band \u22120.5,2') was told to be typed as
'--gap=-1', which the option's check then refused. Such options now name their check
(cli.parser.checked_after_parsing) and the pasted value gets its refusal at once."""

from __future__ import annotations

import pytest

from manybody.cli.app import main


def _cli_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("option, typed, refusal", [
    ("--gap", "\u22121", "--gap must be > 0 K"),
    ("--gap", "\u22121.5e-3", "--gap must be > 0 K"),
    ("--frequency", "\u22125GHz", "frequency must be positive, got '-5GHz'"),
    ("--band", "\u22120.5,2", "--band edges must satisfy 0 <= LO < 1 < HI"),
])
@pytest.mark.parametrize("joined", [False, True])
def test_a_pasted_minus_in_an_option_checked_after_parsing_gets_its_refusal(
        capsys, option, typed, refusal, joined):
    words = [f"{option}={typed}"] if joined else [option, typed]
    err = _cli_error(capsys, ["fit-data", "a.csv", "--quasiparticle", "exp", *words])
    assert "minus sign" in err and refusal in err, err
    assert f"'{option}=-" not in err.replace("read as", ""), err  # no form it then refuses
    assert f"{option}: {option}" not in err  # the name once


def test_the_checks_named_are_the_checks_run_after_parsing(capsys, tmp_path):
    """The same refusal when the value is typed with a hyphen and reaches the run."""
    table = tmp_path / "a.csv"
    table.write_text("T (K),Qi\n" + "".join(f"{0.02 * 1.3 ** k:.5g},{1e5 * (1 + k):g}\n"
                                              for k in range(10)))
    assert main(["fit-data", str(table), "--frequency", "5GHz", "--quasiparticle", "exp",
                 "--gap=-1", "--out", str(tmp_path / "out")]) != 0
    assert "--gap must be > 0 K" in capsys.readouterr().err


# round 2 (bt229 F10): a dash pasted inside a value, and hyphens other than U+2212 ------------


@pytest.mark.parametrize("option, typed, told", [
    ("--frequency", "5.6e\u22123K", "type it as '5.6e-3K'"),
    ("--frequency", "5.6e\uff0d3K", "type it as '5.6e-3K'"),
    ("--band", "0,1e\u22123", "--band edges must satisfy 0 <= LO < 1 < HI"),
    ("--powers", "\u2010100,\u2010120", "'--powers=-100,-120'"),
    ("--powers", "\u2011100", "'--powers=-100'"),
])
def test_a_hyphen_like_character_anywhere_in_a_value_is_named(capsys, option, typed, told):
    err = _cli_error(capsys, ["fit-data", "a.csv", option, typed])
    assert "not a hyphen (pasted from a document?)" in err and told in err, err


def test_a_file_or_column_name_with_a_dash_is_left_alone(tmp_path, capsys):
    table = tmp_path / "run\u20131.csv"
    table.write_text("T (K),Qi\n" + "".join(f"{0.02 * 1.3 ** k:.5g},{1e5 * (1 + k):g}\n"
                                              for k in range(10)))
    status = main(["fit-data", str(table), "--frequency", "5GHz", "--loss-column", "Q\u2013i",
                   "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status != 0 and "no column named 'Q\u2013i'" in err and "hyphen" not in err, err
