"""What every layer uses and no physics needs to know: provenance, atomic files, BLAS threads,
figure style, JSON and input validation. Imports nothing else of manybody."""
