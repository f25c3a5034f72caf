"""The key a run specification writes for each parameter (``model.tls.asymmetry_max``), from
the name its parameter class uses (``tls.asymmetry_max``).

The classes of :mod:`manybody.config` name their fields as the Python API writes them
(``TLSParams`` says ``tls.tunnelling_min``, ``Broadening`` says ``broadening.width``,
``ChebyshevParams`` says ``chebyshev.n_vectors``, ``ModelParams`` says ``n_tls``). Messages about
a spec (its errors, the preflight's warnings) name the key of the file instead (session 37's
note: ``broadening.width must be below 1000 K`` for the spec's ``probe.broadening.width``).
"""

from __future__ import annotations

import re

#: The spec's section of each parameter class's own prefix (``tls.asymmetry_max`` is the spec's
#: ``model.tls.asymmetry_max``), and of the bare names a message may begin with.
_SPEC_SECTIONS = {"tls": "model", "stress": "model", "coupling": "model", "random_matrix": "model",
                  "equilibration": "model", "broadening": "probe", "saturation": "probe",
                  "matrix_element_bins": "probe", "chebyshev": "solver"}
_BARE_NAMES = {"n_tls": "model", "frequencies": "probe", "temperatures": "probe",
               "observables": "probe", "phonon_rate_prefactor": "probe"}
_SECTION_KEY = re.compile(rf"(?<![\w./\\-])(?:{'|'.join(_SPEC_SECTIONS)})\.(?=\w)")
#: A quoted value (a repr: 'saturation.gaussian', "data/tls.csv"): the user's text, kept as given;
#: and a table's list of valid keys, each named within the table ("model.n_tls" among "tls,
#: coupling" mixed two ways of naming, a tester, session 60).
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\"|valid keys are [^;]*)")
_BARE_KEY = re.compile(rf"^(?:{'|'.join(_BARE_NAMES)})\b(?!\.)")
#: Names that cannot be English words (an underscore in them): qualified wherever they stand
#: alone ("need phonon_rate_prefactor" was left bare; a tester, session 38).
_IDENTIFIERS = {"n_tls": "model", "phonon_rate_prefactor": "probe",
                "matrix_element_bins": "probe", "measurement_time": "model.equilibration"}
_IDENTIFIER = re.compile(rf"(?<![\w./\\-])(?:{'|'.join(_IDENTIFIERS)})\b(?![.\w])")


def spec_keys(message: str) -> str:
    """``message`` with every parameter named by its key in the spec file.

    The parameter classes name their fields as the Python API writes them (``tls.tunnelling_min``,
    ``broadening.width``, ``chebyshev.n_vectors``, ``n_tls`` at the start); a spec's reader wants
    the key of the file (``model.tls.tunnelling_min``, ``probe.broadening.width``,
    ``solver.chebyshev.n_vectors``, ``model.n_tls``). Names already qualified are kept; other
    words are not touched (a bare name that is also an English word, ``frequencies``, is
    qualified only where it begins the message; one with an underscore, ``n_tls``,
    ``phonon_rate_prefactor``, wherever it stands alone), nor are quoted values or path
    components (``'saturation.gaussian'``, ``/tmp/tls.toml``), nor the list of a table's valid
    keys, which names them within that table ("in model; valid keys are n_tls, tls, ...").
    """
    parts = _QUOTED.split(message)  # odd entries are quoted values: never rewritten (a tester,
    # session 38: "got 'saturation.gaussian'" became "got 'probe.saturation.gaussian'")
    message = "".join(part if i % 2 else _IDENTIFIER.sub(
        lambda match: f"{_IDENTIFIERS[match.group(0)]}.{match.group(0)}", _SECTION_KEY.sub(
            lambda match: f"{_SPEC_SECTIONS[match.group(0)[:-1]]}.{match.group(0)}", part))
        for i, part in enumerate(parts))
    return _BARE_KEY.sub(lambda match: f"{_BARE_NAMES[match.group(0)]}.{match.group(0)}",
                         message, count=1)
