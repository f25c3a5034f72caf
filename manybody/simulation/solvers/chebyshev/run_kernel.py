"""The compiled product of a matrix-free H whose flip weights do not depend on z (imports numba:
loaded by :meth:`.matrix_free.MatrixFreeOperator._run_setup` on first use).

Every flip mask m of such an H (Delta_i s^x_i, s^x s^x couplings; the standard TLS families) has
one weight w_m, so Y = alpha ((d - shift) X + sum_m w_m X[r ^ m]) - P for a C-order (D, width)
block X. The inner loops are module-level functions inlined into the product, so the product's
closure holds only integers and tuples of integers: numba keys its on-disk cache on the closure
values, and a compiled function held in a closure pickles with a random identifier, which made
every process compile the kernel again (~3 s) and add a cache file (found in session 13: 344
files of one kernel in ``__pycache__``).

Row operations as explicit vector code (session 24). A row of the block is b contiguous numbers.
numba turns LLVM's superword (SLP) vectoriser off (numba issue 8705), and LLVM's loop vectoriser
leaves loops with a known trip count below 16 alone, so a loop over the b = 4 columns of one row
compiled to four scalar multiplies and adds: the pass over the diagonal and the flips inside an
8-row tile, and the runs of 8 rows of the next masks, ran at a fraction of the rate of the long
runs. The intrinsics :func:`tile_row`, :func:`row_add4` and :func:`row_add1` emit a row as one
LLVM vector of b lanes (``<b x double>``, which the code generator splits into the machine's
registers). Their arithmetic is the scalar loops', operation for operation: a float32 source is
widened to float64 exactly, each term is a multiply and then an add (no fused multiply-add, no
reassociation), in the same order, so the product is the same to the last bit (tests: against the
gather kernel and against numpy term by term). They live in this file because numba's disk cache
checks only the file of the cached function: a change to a helper in another module would leave
stale compiled kernels in use.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from llvmlite import ir
from numba.core import errors, types
from numba.extending import intrinsic

from manybody.simulation.solvers.chebyshev.compiled import compile_variant

__all__ = ["run_kernel"]

#: Runs of fewer rows than this are added row by row as vector operations (:func:`row_add4`);
#: longer runs as loops over the run, which the compiler vectorises itself.
_SHORT_RUN_ROWS = 16


def _checked_width(width, target, weights=None) -> int:
    """The block width as a compile-time constant (the kernels' closure constant); the target
    (the accumulator) and the weights must be float64."""
    if not isinstance(width, types.IntegerLiteral):
        raise errors.RequireLiteralValue(width)
    for name, array in (("accumulator", target), ("weights", weights)):
        if array is not None and array.dtype != types.float64:
            raise errors.TypingError(f"the {name} must be float64, got {array.dtype}")
    return width.literal_value


def _row_pointer(context, builder, array_type, array, offset, width):
    """Pointer to ``array[offset]`` as a pointer to a vector of ``width`` elements."""
    data = context.make_array(array_type)(context, builder, array).data
    pointer = builder.gep(data, [offset], inbounds=True)
    vector = ir.VectorType(context.get_data_type(array_type.dtype), width)
    return builder.bitcast(pointer, vector.as_pointer())


def _load_row(context, builder, array_type, array, offset, width):
    """``array[offset:offset + width]`` as a float64 vector (float32 widened exactly)."""
    row = builder.load(_row_pointer(context, builder, array_type, array, offset, width),
                       align=array_type.dtype.bitwidth // 8)
    if array_type.dtype != types.float64:
        row = builder.fpext(row, ir.VectorType(ir.DoubleType(), width))
    return row


def _splat(builder, scalar, width):
    """A float64 vector of ``width`` copies of ``scalar``."""
    vector = ir.VectorType(ir.DoubleType(), width)
    first = builder.insert_element(ir.Constant(vector, ir.Undefined), scalar,
                                   ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(first, ir.Constant(vector, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width))


def _add_term(builder, total, weight, row, width):
    """total + weight * row: a multiply, then an add (the scalar loops' ``v += w * x[k]``)."""
    return builder.fadd(total, builder.fmul(_splat(builder, weight, width), row))


@intrinsic
def tile_row(typingctx, target, source, offset, a, factor, weights, low, width):
    """One row of the tile pass: ``target[o:o + b] = factor * source[o:o + b]`` then, for
    g = 0, 1, ... in order, ``+ weights[g] * source[offset + (a ^ low[g]) b:...]``, with
    o = offset + a b and b = ``width``; one store.

    Parameters
    ----------
    target : float64 array, 1-D, C order
        The accumulator (flat rows of b columns).
    source : float32 or float64 array, 1-D, C order
        The flat block of the tile's chunk.
    offset, a : int
        Flat offset of the tile in both arrays, and the row within it.
    factor : float
        d_a - shift, the diagonal term's factor.
    weights : float64 array
        Flip weights; the first len(low) are those of ``low``.
    low : tuple of int
        The flip masks below the tile (an empty tuple: the diagonal term alone).
    width : int literal
        b.

    The parameters are numba types at compile time; the numbers arrive at run time.
    """
    columns = _checked_width(width, target, weights)
    n_low = len(low)

    def codegen(context, builder, signature, args):
        target_value, source_value, offset_value, row, factor_value, weight_array, masks, _ = args
        source_type = signature.args[1]
        stride = ir.Constant(offset_value.type, columns)
        own = builder.add(offset_value, builder.mul(row, stride))
        total = builder.fmul(_splat(builder, factor_value, columns),
                             _load_row(context, builder, source_type, source_value, own, columns))
        weight_data = context.make_array(signature.args[5])(context, builder, weight_array).data
        for g in range(n_low):
            flipped = builder.xor(row, builder.extract_value(masks, g))
            start = builder.add(offset_value, builder.mul(flipped, stride))
            index = ir.Constant(offset_value.type, g)
            weight = builder.load(builder.gep(weight_data, [index], inbounds=True))
            total = _add_term(builder, total, weight, _load_row(
                context, builder, source_type, source_value, start, columns), columns)
        builder.store(total, _row_pointer(context, builder, signature.args[0], target_value, own,
                                          columns), align=8)
        return context.get_dummy_value()

    return types.void(target, source, types.intp, types.intp, types.float64, weights, low,
                      width), codegen


@intrinsic
def row_add4(typingctx, target, target_offset, source, s0, s1, s2, s3, w0, w1, w2, w3, width):
    """``target[t:t + b] += w0 x[s0:s0 + b] + w1 x[s1:...] + w2 x[s2:...] + w3 x[s3:...]``, added
    in that order (``run_kernel._add4`` for one row), t = ``target_offset``, x = ``source``;
    one load and one store of the target."""
    columns = _checked_width(width, target)

    def codegen(context, builder, signature, args):
        pointer = _row_pointer(context, builder, signature.args[0], args[0], args[1], columns)
        total = builder.load(pointer, align=8)
        for start, weight in zip(args[3:7], args[7:11], strict=True):
            total = _add_term(builder, total, weight, _load_row(
                context, builder, signature.args[2], args[2], start, columns), columns)
        builder.store(total, pointer, align=8)
        return context.get_dummy_value()

    return types.void(target, types.intp, source, *([types.intp] * 4), *([types.float64] * 4),
                      width), codegen


@intrinsic
def row_add1(typingctx, target, target_offset, source, s0, w0, width):
    """``target[t:t + b] += w0 x[s0:s0 + b]`` (``run_kernel._add1`` for one row)."""
    columns = _checked_width(width, target)

    def codegen(context, builder, signature, args):
        pointer = _row_pointer(context, builder, signature.args[0], args[0], args[1], columns)
        total = _add_term(builder, builder.load(pointer, align=8), args[4], _load_row(
            context, builder, signature.args[2], args[2], args[3], columns), columns)
        builder.store(total, pointer, align=8)
        return context.get_dummy_value()

    return types.void(target, types.intp, source, types.intp, types.float64, width), codegen


@numba.njit(inline="always")
def _add4(t, x0, x1, x2, x3, w0, w1, w2, w3, span):
    """t[k] += w0 x0[k] + w1 x1[k] + w2 x2[k] + w3 x3[k] in this order, k < span."""
    for k in range(span):
        v = t[k]
        v += w0 * x0[k]
        v += w1 * x1[k]
        v += w2 * x2[k]
        v += w3 * x3[k]
        t[k] = v


@numba.njit(inline="always")
def _add1(t, x0, w0, span):
    """t[k] += w0 x0[k], k < span."""
    for k in range(span):
        t[k] += w0 * x0[k]


@functools.cache
def run_kernel(width: int, tile: int, low: tuple[int, ...]):
    """Compiled fused product for H without z-dependent flip weights.

    Rows are processed in chunks (a power of two, :func:`.matrix_free._run_chunk`) with one
    float64 accumulator per thread. For a mask m the rows of an aligned run of length m & -m (its
    lowest set bit) map to a contiguous run r ^ m, so each term is a contiguous multiply-add over
    run x width entries of the flattened block, which the compiler vectorises (the per-row
    gather of :func:`.matrix_free._product_kernel` it does not). The masks below ``tile`` rows
    (``low``, compile-time constants: the single flips of the lowest sites, runs of 1-4 rows) are
    summed with the diagonal term row by row in a first pass over each tile
    (:func:`tile_row`, one vector operation per row); the other masks are added four
    at a time in one pass over the accumulator, row by row where their runs are shorter than
    ``_SHORT_RUN_ROWS`` (:func:`row_add4`), else as loops over each run. Every entry sums the
    diagonal term and then the masks one by one in increasing order, the order of
    :func:`.matrix_free._product_kernel`, in float64, and each chunk is computed by one thread the
    same way, so the result is the same to the last bit for any number of threads and either
    kernel. Measured with 4 vectors and 2 threads (results/bench/matrix_free.json, "apply"): see
    the README's large-N section.

    Parameters
    ----------
    width : int
        Columns b of the block (a compile-time constant).
    tile : int
        Rows per tile of the first pass (a power of two, at most D).
    low : tuple of int
        The flip masks below ``tile``, increasing (the first len(low) masks of the operator).
    """
    n_low = len(low)
    short = _SHORT_RUN_ROWS

    # cached on disk per (width, tile, low): numba keys the cache on the closure values, and
    # each variant has a name of its own (.compiled)
    def product(x, out, diag, alpha, shift, prev, subtract, masks, weights, chunk, threads):
        dim = diag.size
        n_chunks = (dim + chunk - 1) // chunk
        per_thread = (n_chunks + threads - 1) // threads
        for thread in numba.prange(threads):
            acc = np.empty(chunk * width)
            for c in range(thread * per_thread, min(n_chunks, (thread + 1) * per_thread)):
                first_row = c * chunk
                rows = min(dim, first_row + chunk) - first_row
                block = x[first_row * width:(first_row + rows) * width]
                for t0 in range(0, rows, tile):  # diagonal and masks below the tile
                    for a in range(tile):
                        tile_row(acc, block, t0 * width, a, diag[first_row + t0 + a] - shift,
                                 weights, low, width)
                g = n_low
                while g < masks.size:  # the other masks, four per pass (then one by one)
                    q = 4 if g + 4 <= masks.size else 1
                    run = rows
                    for h in range(g, g + q):
                        run = min(run, masks[h] & -masks[h])
                    if run < short:  # short runs: one vector operation per row
                        if q == 4:
                            m0, m1, m2, m3 = masks[g], masks[g + 1], masks[g + 2], masks[g + 3]
                            for r in range(rows):
                                row = first_row + r
                                row_add4(acc, r * width, x, (row ^ m0) * width,
                                         (row ^ m1) * width, (row ^ m2) * width,
                                         (row ^ m3) * width, weights[g], weights[g + 1],
                                         weights[g + 2], weights[g + 3], width)
                        else:
                            for r in range(rows):
                                row_add1(acc, r * width, x, ((first_row + r) ^ masks[g]) * width,
                                         weights[g], width)
                        g += q
                        continue
                    span = run * width
                    for start in range(0, rows, run):
                        row = first_row + start
                        t = acc[start * width:start * width + span]
                        s0 = (row ^ masks[g]) * width
                        if q == 4:
                            s1 = (row ^ masks[g + 1]) * width
                            s2 = (row ^ masks[g + 2]) * width
                            s3 = (row ^ masks[g + 3]) * width
                            _add4(t, x[s0:s0 + span], x[s1:s1 + span], x[s2:s2 + span],
                                  x[s3:s3 + span], weights[g], weights[g + 1], weights[g + 2],
                                  weights[g + 3], span)
                        else:
                            _add1(t, x[s0:s0 + span], weights[g], span)
                    g += q
                base = first_row * width
                target = out[base:base + rows * width]
                if subtract:
                    before = prev[base:base + rows * width]
                    for k in range(rows * width):
                        target[k] = alpha * acc[k] - before[k]
                else:
                    for k in range(rows * width):
                        target[k] = alpha * acc[k]

    return compile_variant(product, width=width, tile=tile, low=low)
