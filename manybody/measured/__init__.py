"""Measured data: loss tables and the laws judged on them; velocity shifts and their slopes; raw
S21 sweeps of resonators fitted to Qi, Qc, f0.

tables      read loss tables (Q, Q^-1 or tan delta against T, as experimentalists have them) and
            split them into loss curves
headers     the tables' column names: quantity, unit or scale, conditions (-80 dBm), which column
            is the temperature, the loss, its error, the power
comparison  the three laws fitted to the same data, the verdict, and the discrimination power
velocity    read delta v/v (or df/f) tables; the figure of their slope fit
sweeps      read raw S21 sweeps (CSV in dB/linear/real-imag layouts, Touchstone .s2p), with checks
resonance   notch-type resonance fit of one sweep: f0, Qi, Qc, phi with errors, or a flag and reason
resonator_table  many sweeps -> f0/Qi/Qc table (CSV), loss table 1/Qi(T), shift curves df/f(T)
resonance_figures  circles and |S21| of representative sweeps with their fits
"""
