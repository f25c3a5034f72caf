"""Names of the built-in study's specs and sizes: constants only, so the command line can list
them without loading the simulation."""

#: Shipped study specs (``manybody/study/specs/<name>.toml``), in the order of the summary.
STUDY_SPECS = (
    "dipolar", "gaussian", "admixture", "two_body_stress", "random_block", "finite_size",
    "decomposition", "coupling_density", "tunnelling_min", "measurement_time", "relaxation",
    "relaxation_admixture",
)
#: Specs of the velocity-slope study (issue 17): no resonant shape analysis, a velocity table.
VELOCITY_SPECS = ("relaxation", "relaxation_admixture")
#: Sizes of a study run.
SIZES = ("tiny", "default", "full")
