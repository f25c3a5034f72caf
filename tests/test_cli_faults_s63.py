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
