"""The physics of one realisation: ensembles and their draws, operators, solvers, observables and
the per-realisation pipeline (:mod:`manybody.simulation.observe`). No files, scheduler or CLI."""
