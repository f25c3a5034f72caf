"""Names of the built-in study's specs and sizes: constants only, so the command line can list
them without loading the simulation."""

#: Shipped study specs (``manybody/study/specs/<name>.toml``), in the order of the summary.
STUDY_SPECS = (
    "dipolar", "gaussian", "admixture", "two_body_stress", "random_block", "decomposition",
    "coupling_density", "tunnelling_min", "measurement_time", "relaxation", "relaxation_admixture",
    "saturation", "saturation_block",
)
#: Specs run only on request (``manybody study --only NAME``), not by the default study: the
#: finite-size check at N = 6, 8, 10 (~8 CPU-minutes, most of it the N = 10 point; its results
#: are committed in ``results/finite_size/``) and the decisive velocity-slope rows (16000
#: realisations per model, ~37 CPU-minutes in all before the dense route for small master
#: equations; issue 17).
OPTIONAL_SPECS = ("finite_size", "velocity_dipolar", "velocity_admixture")
#: Every spec ``--only`` accepts.
ALL_SPECS = STUDY_SPECS + OPTIONAL_SPECS
#: The |T_mn|^2 statistics runs of the whole study (``manybody.study.specs.MATRIX_ELEMENT_SPECS``),
#: which the plan lists and ``--only`` also accepts (session 37's note: it refused them).
MATRIX_ELEMENT_NAMES = ("matrix_elements_independent", "matrix_elements_dipolar",
                        "matrix_elements_flat_block")
#: Specs of the velocity-slope study (issue 17): no resonant shape analysis, a velocity table.
VELOCITY_SPECS = ("relaxation", "relaxation_admixture", *OPTIONAL_SPECS)
#: Specs of the power-saturation comparison (issue 18): the ``saturation`` observable only, at one
#: frequency and two temperatures; no resonant shape analysis, a saturation table.
SATURATION_SPECS = ("saturation", "saturation_block")
#: Sizes of a study run.
SIZES = ("tiny", "default", "full")
