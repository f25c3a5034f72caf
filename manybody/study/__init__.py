"""The built-in study: does TLS structure survive interactions? The shipped run specifications
(specs/), running them (run), the summary table of each sweep point (summary), the matrix-element
statistics (matrix_elements) and the figures drawn from the results files (figures)."""
