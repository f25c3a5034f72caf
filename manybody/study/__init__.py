"""The built-in study: does TLS structure survive interactions? The shipped run specifications
(specs/), running them (run), the summary table of each sweep point (summary), the matrix-element
statistics (matrix_elements) and the figures drawn from the results files (figures)."""

from manybody._moved import STUDY_MODULES, old_names

#: Release 0.1's module ``manybody.study`` stood at this path: its names still resolve, with a
#: DeprecationWarning naming their new module (``from manybody.study import execute_study``).
__getattr__ = old_names("manybody.study", STUDY_MODULES)
