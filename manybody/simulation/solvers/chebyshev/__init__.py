"""The Chebyshev (KPM + typicality) solver: primitives (kpm), planning (plan), cost before building
(resources) and the estimator (solver)."""
