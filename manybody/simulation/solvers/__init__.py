"""Solvers (placeholder; registry follows)."""
