"""The temperature laws of the resonant loss (and of the sound velocity) and how data are judged
against them.

shapes   the three laws (tanh(x/2), 1 - e^-x, the family with TLS index a), the line-kernel
         average, the shape ratio
inputs   what a fit takes: loss curves, frequencies with units, option names (numpy only)
fit      the one fitting engine (one or several curves, or one curve in x) and its result LawFit
verdict  the one verdict: TLS index -> verdict, AIC -> preferred law and evidence
gof      covariance-aware goodness of fit over realisations (Hotelling; bootstrap fallback)
analysis the study's analysis of simulated Q^-1(x) (bootstrap over realisations)
collapse the frequency collapse of Q^-1(w, T) in x = w / T (slope, contrast, test)
velocity the logarithmic law of the sound velocity: slope of dv/v against ln T

Used by the study (:mod:`manybody.laws.analysis`) and by measured data (:mod:`manybody.measured`).
"""
