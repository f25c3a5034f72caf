import numpy as np

import manybody as mb

params = mb.ModelParams(
    n_tls=6,
    tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3, tunnelling_max=0.3),
    # coupling=mb.CouplingParams(kind="dipolar", strength=0.1),  # needs far more realisations
)
w = np.array([0.1])                                              # probe frequency (K)
temps = w[0] / np.geomspace(0.2, 10, 25)                         # x = w/T from 0.2 up to 10
kernel = mb.Broadening(kind="gaussian", width=0.02)                # the study's kernel, eta = w/5
norm = mb.absorption_normalisation(params)
q = []                                                           # one Q^-1(T) curve per realisation
for r in range(300):                                             # one realisation is NOT converged
    real = mb.draw_realisation(params, mb.realisation_rng(seed=1, realisation=r))
    # or your own numbers: mb.Realisation.from_arrays(asymmetry=..., tunnelling=..., couplings={"zz": K})
    spectrum, t_mn = mb.solve(real)             # energies (K), eigenvectors, T_mn in the eigenbasis
    q.append(mb.absorption(spectrum, t_mn, w, temps, kernel, normalisation=norm)[:, 0])  # pi*C0
q = np.array(q)                                                  # (realisation, temperature)
mean, error = q.mean(0), q.std(0, ddof=1) / np.sqrt(len(q))
print(f"Q^-1(x = 10) = {mean[-1]:.3f} +- {error[-1]:.3f} pi*C0 (tanh(5) = {np.tanh(5):.4f})")
shape = mb.analyse_shape(w[0] / temps, q, smearing=kernel.width / w[0])  # fits the kernel-averaged laws
print(f"TLS index a = {shape.index:.2f} +- {shape.index_error:.2f} (1: tanh, 0: 1 - e^-x): {shape.verdict}")
c = mb.specific_heat(spectrum.energies, temps)  # of the last realisation, units of k_B
