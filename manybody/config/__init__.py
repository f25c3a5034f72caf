"""Parameter dataclasses of a run: the model (model.py), what is measured (probe.py) and the solver
(solver.py). Imports no compute module."""
