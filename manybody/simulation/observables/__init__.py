"""Observables of one realisation from its spectrum and stress matrix elements: golden-rule
absorption and velocity shift, relaxation, thermodynamics, level and matrix-element statistics."""
