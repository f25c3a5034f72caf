"""Observables of one realisation from its spectrum and stress matrix elements: golden-rule
absorption and velocity shift, relaxation, saturation (driven steady state; coherent.py holds its
Bloch and Lindblad references), thermodynamics, level and matrix-element statistics."""
