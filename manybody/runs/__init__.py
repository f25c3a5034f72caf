"""Runs: a run specification (spec), the sweep runner that computes every (sweep point,
realisation) task of it (sweep, with its tasks, execution, checkpoint and lifecycle), and the
results files it writes and reads back (results). Knows the simulation; the simulation knows
nothing of it."""
