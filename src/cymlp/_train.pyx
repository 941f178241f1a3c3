"""The training engine: forward, backward and update over minibatches, without
the GIL.

Design:
a) Parameters live in one flat C-contiguous buffer in scikit-learn's lbfgs
   packing order: every coefficient matrix (fan_in x fan_out, row-major), then
   every intercept vector. The facade's ``coefs_`` / ``intercepts_`` are views
   into it; optimizer state (velocities, Adam moments) and gradients use the
   same layout.
b) ``train_epoch`` runs one whole epoch in ``nogil``: the facade hands it the
   epoch's permutation; each minibatch's rows are gathered into a buffer that a
   ``Workspace`` allocated once per fit. No Python and no allocation per
   minibatch.
c) Forward: z = a W by gemm, then bias + activation in one pass. The output
   layer's activation, loss and delta = a - y are fused (``_loss``).
d) Backward, layer by layer from the top: first the input delta
   delta_{l-1} = delta_l W_l^T (with the old W_l) masked by the activation
   derivative, then layer l's gradient and its optimizer update at once, while
   the gradient is hot in cache. The first layer needs no input delta. Plain
   SGD (no momentum) needs no gradient buffer at all: the weight update
   W <- (1 - lr alpha / n) W - (lr / n) a^T delta is one gemm into W.
e) Non-finite batch losses are flagged, not fatal: as in scikit-learn the epoch
   goes on, and the facade refuses non-finite final weights once the GIL is back.
f) Reading X is the one cost the matrix products do not cover: a shuffled
   minibatch is rows scattered over all of X, straight from memory. The
   gather prefetches a few rows ahead (measured here: a gather-bound epoch
   runs 1.3x faster).
   With ``check_x`` the first epoch's gather also checks every value it copies
   for NaN and infinity (and ``predict`` each chunk, through its first
   product: see ``_predict_rows``), so the facade can skip scikit-learn's
   separate pass over X; on a non-finite value the engine raises and the
   facade reports scikit-learn's own error.
g) Ctrl-C: a long nogil epoch (or predict) reads the clock after each
   minibatch (chunk) and, every ``check_signals`` seconds (0.05 by default),
   takes the GIL to run the pending signal handlers (``PyErr_CheckSignals``).
   If one raises (SIGINT: KeyboardInterrupt), the epoch stops right there and
   the exception propagates; ``Workspace.steps`` tells how many optimizer
   steps the interrupted epoch took (the updates stay in params and state).
"""
cimport cython
from cython cimport floating
from libc.math cimport sqrt, pow
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS,
                            PyBUF_FORMAT, PyBUF_WRITABLE)
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from cpython.exc cimport PyErr_CheckSignals

import numpy as np

from cymlp._blas cimport gemm, dot
from cymlp._activations cimport bias_activation, multiply_derivative, RELU
from cymlp._loss cimport loss_and_delta
from cymlp._optimizers cimport sgd_update, adam_update

from cymlp._activations import ACTIVATION_CODES
from cymlp._loss import LOSS_CODES

# Update rules of _backward.
cdef enum:
    GRADIENT_ONLY = 0
    SGD_PLAIN = 1
    SGD_MOMENTUM = 2
    ADAM = 3

_INT32_MAX = 2 ** 31 - 1
# the engine's message when a checked X holds NaN or infinity (the facade then
# raises scikit-learn's own error)
X_NOT_FINITE = "X contains NaN or infinity"

from cymlp._simd cimport choose_variant, cymlp_simd_name, simd_names, CYMLP_COMPILER

cdef extern from "_kernels/engine.h":
    void cymlp_engine_select(int variant) noexcept nogil
    void CYMLP_PREFETCH(const void* p) noexcept nogil
    bint cymlp_finite_f32(const float* s, Py_ssize_t n) noexcept nogil
    bint cymlp_finite_f64(const double* s, Py_ssize_t n) noexcept nogil
    bint cymlp_copy_finite_f32(float* d, const float* s, Py_ssize_t n) noexcept nogil
    bint cymlp_copy_finite_f64(double* d, const double* s, Py_ssize_t n) noexcept nogil
    bint cymlp_bias_relu_finite_f32(float* z, const float* b, Py_ssize_t rows,
                                    Py_ssize_t cols) noexcept nogil
    bint cymlp_bias_relu_finite_f64(double* z, const double* b, Py_ssize_t rows,
                                    Py_ssize_t cols) noexcept nogil
    void cymlp_colsums_f32(const float* d, Py_ssize_t rows, Py_ssize_t cols,
                           float* out) noexcept nogil
    void cymlp_colsums_f64(const double* d, Py_ssize_t rows, Py_ssize_t cols,
                           double* out) noexcept nogil
    double cymlp_clock() noexcept nogil

# The SIMD variant of this module's kernels, chosen once (see _simd.pxd).
cdef int _simd_variant = choose_variant()
cymlp_engine_select(_simd_variant)
SIMD_VARIANT = cymlp_simd_name(_simd_variant).decode()
_SIMD_REQUESTED = __import__("os").environ.get("CYMLP_SIMD") or None

# Rows the gather prefetches ahead of the one it copies.
cdef enum:
    PREFETCH_ROWS = 4

# Phases of a training step, for ``train_epoch(..., profile=...)``.
cdef enum:
    P_GATHER = 0
    P_FWD_GEMM = 1
    P_FWD_ELEM = 2
    P_LOSS = 3
    P_BWD_GEMM = 4
    P_BWD_ELEM = 5
    P_UPDATE = 6
    N_PHASES = 7

PROFILE_PHASES = (
    "gather",                # minibatch rows of X, Y (and weights) copied; X checked
    "forward products",      # z = a W, every layer
    "forward elementwise",   # bias + hidden activation
    "output and loss",       # output activation, loss, output delta (and L2 term)
    "backward products",     # input deltas, weight gradients (plain SGD: the update)
    "backward elementwise",  # activation derivative, bias gradients and steps
    "optimizer",             # momentum / Adam pass over the parameters
)


cdef struct Profile:
    double* seconds              # N_PHASES accumulators
    double t                     # the clock at the end of the last phase


cdef inline void _tick(Profile* prof, int phase) noexcept nogil:
    """Charge the time since the last tick to ``phase`` (no-op without a profile)."""
    cdef double now
    if prof != NULL:
        now = cymlp_clock()
        prof.seconds[phase] += now - prof.t
        prof.t = now


cdef inline bint _all_finite(const floating* s, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return cymlp_finite_f32(s, n)
    else:
        return cymlp_finite_f64(s, n)


def all_finite(const floating[::1] a):
    """Whether every value of ``a`` is finite: the engine's SIMD check, in one
    read without the GIL, no mask and no floating-point warning (for the
    facade's checks of X and of the trained parameters)."""
    cdef bint ok = True
    if a.shape[0]:
        with nogil:
            ok = _all_finite(&a[0], a.shape[0])
    return ok


def copy_into(sources, targets):
    """``target[...] = source`` for each pair of C-contiguous arrays of the same
    size and dtype, by memcpy without the GIL (partial_fit's failure snapshot
    of the weights and optimizer moments: one call, not one NumPy assignment
    per array)."""
    cdef Py_buffer sb, tb
    cdef Py_ssize_t i, n = len(sources)
    if len(targets) != n:
        raise ValueError("copy_into: as many targets as sources")
    for i in range(n):
        src, dst = sources[i], targets[i]
        if src.dtype != dst.dtype or src.shape != dst.shape:
            raise ValueError("copy_into: arrays of different dtype or shape")
        PyObject_GetBuffer(src, &sb, PyBUF_C_CONTIGUOUS)
        try:
            PyObject_GetBuffer(dst, &tb, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if sb.len and sb.buf != tb.buf:
                    with nogil:
                        memcpy(tb.buf, sb.buf, sb.len)
            finally:
                PyBuffer_Release(&tb)
        finally:
            PyBuffer_Release(&sb)


ctypedef fused label_t:
    int
    long long


cdef bint _one_hot(const label_t[::1] y, Py_ssize_t n_classes, floating[:, ::1] out) noexcept:
    cdef Py_ssize_t i, n = y.shape[0], k = out.shape[1]
    cdef long long c
    with nogil:
        memset(&out[0, 0], 0, n * k * sizeof(floating))
        for i in range(n):
            c = y[i]
            if c < 0 or c >= n_classes:
                return False
            if k == 1:
                out[i, 0] = c == 1
            else:
                out[i, c] = 1
    return True


def one_hot(y, Py_ssize_t n_classes, out):
    """The training targets of integer class indices: ``out`` (``len(y)`` x
    ``n_classes``, or x 1 for two classes: the second class's column, as
    LabelBinarizer gives it; float32 or float64) set to the rows of the
    identity that ``y`` picks. ``y``: a 1-D C-contiguous int32 or int64
    array. False, ``out`` incomplete, if a label is not in ``[0,
    n_classes)``. partial_fit's lean path: one pass, where the min, max,
    take and cast it replaces cost more than a 200-row minibatch's step."""
    k = out.shape[1]
    if (out.shape[0] != y.shape[0] or k != (1 if n_classes == 2 else n_classes)
            or n_classes < 2):
        raise ValueError("one_hot: out does not match y and n_classes")
    if y.shape[0] == 0:
        return True
    if out.dtype == np.float32:
        if y.dtype.itemsize == 8:
            return _one_hot[cython.longlong, float](y, n_classes, out)
        return _one_hot[int, float](y, n_classes, out)
    if y.dtype.itemsize == 8:
        return _one_hot[cython.longlong, double](y, n_classes, out)
    return _one_hot[int, double](y, n_classes, out)


cdef inline bint _copy_row(floating* d, const floating* s, Py_ssize_t n,
                           const floating* ahead, bint check) noexcept nogil:
    """Copy one row of X into the minibatch (checking it for non-finite values
    when ``check``), after prefetching the row ``ahead`` (or none if NULL)."""
    cdef const char* p = <const char*>ahead
    cdef Py_ssize_t o
    if ahead != NULL:
        o = 0
        while o < n * <Py_ssize_t>sizeof(floating):
            CYMLP_PREFETCH(p + o)
            o += 64
    if check:
        if floating is float:
            return cymlp_copy_finite_f32(d, s, n)
        else:
            return cymlp_copy_finite_f64(d, s, n)
    memcpy(d, s, n * sizeof(floating))
    return True


@cython.wraparound(True)
def check_layer_units(layer_units):
    """Refuse networks the 32-bit BLAS cannot address (the facade calls this
    before allocating anything); return the sizes as a list of int."""
    units = [int(u) for u in layer_units]
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        if max(fan_in, fan_out) > _INT32_MAX or fan_in * fan_out > _INT32_MAX:
            raise ValueError(
                f"The network's layer sizes {units} need a {fan_in} x {fan_out} "
                "weight matrix; cymlp's BLAS uses 32-bit sizes, so every layer "
                "size and every weight matrix must stay below 2**31 entries."
            )
    return units


cdef struct Layout:
    int n_layers                 # weight layers
    const int* units             # n_layers + 1 sizes, input first
    const Py_ssize_t* coef_off   # offset of coefs_[l] in the flat buffer
    const Py_ssize_t* bias_off   # offset of intercepts_[l]
    const Py_ssize_t* act_off    # offset of layer l's output in acts / deltas
    int hidden                   # hidden activation code
    int loss                     # loss code (fixes the output activation)
    int out                      # output activation code (prediction)


cdef struct SparseBatch:
    # a minibatch of a CSR matrix: rows[i] (or row0 + i when rows is NULL)
    const void* data             # floating values
    const Py_ssize_t* indices
    const Py_ssize_t* indptr
    const Py_ssize_t* rows
    Py_ssize_t row0


cdef struct Step:
    int rule
    double lr, momentum, beta1, beta2, epsilon, lr_t, alpha
    bint nesterov


cdef _frozen(a):
    a.flags.writeable = False
    return a


cdef class Network:
    """Shapes and codes of one network: what the engine needs besides arrays.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first.
    activation : str
        Hidden activation.
    loss : str
        One of ``LOSS_CODES`` (it fixes the output activation).
    out_activation : str
        Output activation, for prediction.
    """
    # read-only, and so are the arrays: the engine trusts them (offsets into
    # the parameter buffer), so they cannot be changed after the checks here
    cdef readonly object units, coef_off, bias_off
    cdef readonly int hidden, loss, out
    cdef readonly Py_ssize_t n_params

    @cython.wraparound(True)
    def __init__(self, layer_units, activation, loss, out_activation):
        units = check_layer_units(layer_units)
        # offsets in intp (Py_ssize_t) from the start: a cumsum in numpy's
        # default integer would wrap past 2**31 where that is int32
        sizes = np.array([fi * fo for fi, fo in zip(units[:-1], units[1:])], dtype=np.intp)
        fan_outs = np.array(units[1:], dtype=np.intp)
        self.units = _frozen(np.asarray(units, dtype=np.intc))
        self.coef_off = _frozen(np.cumsum(sizes) - sizes)
        start = int(sizes.sum())
        self.bias_off = _frozen(start + np.cumsum(fan_outs) - fan_outs)
        self.n_params = start + int(fan_outs.sum())
        self.hidden = ACTIVATION_CODES[activation]
        self.loss = LOSS_CODES[loss]
        self.out = ACTIVATION_CODES[out_activation]

    def __reduce__(self):
        raise TypeError("Network is rebuilt from the estimator, not pickled")


cdef class Workspace:
    """Buffers for minibatches of at most ``batch_size`` rows, allocated once per fit.

    Parameters
    ----------
    net : Network
    batch_size : int
    dtype : numpy dtype (float32 or float64)
    gather_x : bool, default True
        Allocate ``xb`` to gather the rows of a dense X (shuffled minibatches).
        False where X is read in place (sparse X, predict, full batch): no
        batch_size x n_features buffer then, however wide X is.
    """
    # read-only: the engine checks a Workspace against ``net`` (the Network
    # it was sized for) and then trusts its buffers' sizes
    cdef readonly Network net
    cdef readonly object act_off, xb, yb, swb, acts, deltas
    cdef readonly Py_ssize_t batch_size
    # optimizer steps taken by the last train_epoch with this workspace, also
    # when a signal handler (Ctrl-C) interrupted it
    cdef public long long steps

    @cython.wraparound(True)
    def __init__(self, Network net, Py_ssize_t batch_size, dtype, bint gather_x=True):
        units = np.asarray(net.units, dtype=np.intp)
        B = max(int(batch_size), 1)
        # a batch's rows are a gemm dimension (32-bit in the BLAS); its buffers
        # are addressed with Py_ssize_t offsets, so batch x width may exceed it
        if B > _INT32_MAX:
            raise ValueError(f"batch of {B} rows: cymlp's BLAS uses 32-bit sizes, so "
                             "a batch must stay below 2**31 rows")
        self.net = net
        self.batch_size = B
        fan_outs = units[1:]
        self.act_off = _frozen(B * (np.cumsum(fan_outs) - fan_outs))
        total = B * int(units[1:].sum())
        self.xb = np.empty(B * int(units[0]) if gather_x else 0, dtype=dtype)
        self.yb = np.empty(B * int(units[-1]), dtype=dtype)
        self.swb = np.empty(B, dtype=dtype)
        self.acts = np.empty(total, dtype=dtype)
        self.deltas = np.empty(total, dtype=dtype)


cdef inline void _layout(Layout* lay, Network net, const int[::1] units,
                         const Py_ssize_t[::1] coef_off, const Py_ssize_t[::1] bias_off,
                         const Py_ssize_t[::1] act_off):
    lay.n_layers = units.shape[0] - 1
    lay.units = &units[0]
    lay.coef_off = &coef_off[0]
    lay.bias_off = &bias_off[0]
    lay.act_off = &act_off[0]
    lay.hidden = net.hidden
    lay.loss = net.loss
    lay.out = net.out


cdef inline Py_ssize_t _sparse_row(const SparseBatch* sp, Py_ssize_t i) noexcept nogil:
    return sp.rows[i] if sp.rows != NULL else sp.row0 + i


cdef void _sparse_forward(const SparseBatch* sp, Py_ssize_t nb, const floating* W,
                          int fo, floating* z) noexcept nogil:
    """z (nb x fo) = X_batch W for CSR rows: one axpy per stored entry."""
    cdef Py_ssize_t i, p, r, j
    cdef const floating* data = <const floating*>sp.data
    cdef const floating* wrow
    cdef floating* zrow
    cdef floating v
    for i in range(nb):
        r = _sparse_row(sp, i)
        zrow = z + i * fo
        for j in range(fo):
            zrow[j] = 0
        for p in range(sp.indptr[r], sp.indptr[r + 1]):
            v = data[p]
            wrow = W + sp.indices[p] * fo
            for j in range(fo):
                zrow[j] += v * wrow[j]


cdef void _sparse_scatter(const SparseBatch* sp, Py_ssize_t nb, const floating* d,
                          int fo, floating scale, floating* G) noexcept nogil:
    """G += scale X_batch^T d for CSR rows: touches only the rows of G whose
    feature is stored in the batch."""
    cdef Py_ssize_t i, p, r, j
    cdef const floating* data = <const floating*>sp.data
    cdef const floating* drow
    cdef floating* grow
    cdef floating v
    for i in range(nb):
        r = _sparse_row(sp, i)
        drow = d + i * fo
        for p in range(sp.indptr[r], sp.indptr[r + 1]):
            v = scale * data[p]
            grow = G + sp.indices[p] * fo
            for j in range(fo):
                grow[j] += v * drow[j]


cdef void _forward(const Layout* lay, const floating* params, const floating* x,
                   const SparseBatch* sp, Py_ssize_t nb, floating* acts,
                   floating* last, Profile* prof, bint* x_finite=NULL) noexcept nogil:
    """Hidden layers fully; the output layer as z = a W only (no bias, no
    activation), written to ``last`` (nb x n_out). The input is the dense
    batch ``x`` or, when ``sp`` is not NULL, CSR rows.

    ``x_finite`` (dense ``x`` only): set to whether every value of ``x`` is
    finite, read off the first product (see ``_predict_rows``): from the flag
    of its bias + ReLU pass, or a pass over its z when z is narrower than x;
    only a non-finite z has ``x`` itself checked."""
    cdef int l, fi, fo
    cdef const floating* a = x
    cdef floating* z
    cdef bint hidden, ok
    for l in range(lay.n_layers):
        fi = lay.units[l]
        fo = lay.units[l + 1]
        hidden = l < lay.n_layers - 1
        z = acts + lay.act_off[l] if hidden else last
        if l == 0 and sp != NULL:
            _sparse_forward(sp, nb, params + lay.coef_off[0], fo, z)
        else:
            gemm(False, False, <int>nb, fo, fi, <floating>1.0, a, fi,
                 params + lay.coef_off[l], fo, <floating>0.0, z, fo)
        _tick(prof, P_FWD_GEMM)
        ok = True
        if l == 0 and x_finite != NULL:
            if hidden and lay.hidden == RELU:
                ok = _bias_relu_finite(z, params + lay.bias_off[l], nb, fo)
                hidden = False   # its bias + activation done
            else:
                ok = fo < fi and _all_finite(z, nb * fo)
            x_finite[0] = ok or _all_finite(x, nb * fi)
        if hidden:
            bias_activation(lay.hidden, z, params + lay.bias_off[l], nb, fo)
            _tick(prof, P_FWD_ELEM)
        a = z


cdef enum:
    _DONE = 0
    _NOT_FINITE = 1    # a value of X was NaN or infinite
    _INTERRUPTED = 2   # a signal handler raised (its exception is set)


cdef extern from "Python.h":
    # as the C API has it: -1 with the handler's exception set, never raising
    # here (cpython.exc's declaration is ``except -1``, which a noexcept
    # function cannot propagate)
    int _check_signals "PyErr_CheckSignals" () noexcept


cdef int _raise_pending() except -1:
    """Propagate the exception a signal handler left set."""
    return -1


cdef inline bint _bias_relu_finite(floating* z, const floating* b, Py_ssize_t rows,
                                   Py_ssize_t cols) noexcept nogil:
    if floating is float:
        return cymlp_bias_relu_finite_f32(z, b, rows, cols)
    else:
        return cymlp_bias_relu_finite_f64(z, b, rows, cols)


cdef int _predict_rows(const Layout* lay, const floating* params, const floating* x,
                       SparseBatch* sp, Py_ssize_t n, Py_ssize_t chunk,
                       floating* acts, floating* out, bint check_x,
                       double check_signals) noexcept nogil:
    """Output-layer activations of n rows (dense ``x`` or, when ``sp`` is not
    NULL, CSR rows) into ``out``, ``chunk`` rows at a time through ``acts``
    (``lay.act_off`` laid out for ``chunk`` rows): per layer z = a W by gemm
    (the output layer's straight into ``out``), then bias + activation in
    place. Every ``check_signals`` seconds (if > 0) between chunks the GIL is
    taken to run the pending signal handlers; one that raises (Ctrl-C) stops
    the loop (``_INTERRUPTED``, its exception set).

    With ``check_x``, each dense chunk is checked for NaN and infinity
    (``_NOT_FINITE``, ``out`` incomplete). Not by a pass over the chunk of X
    (up to 5 % of a float64 prediction on MNIST-shaped X): a non-finite value
    in a row of X makes that whole row of the first product z = X W non-finite
    (NaN * w, inf * 0 and inf - inf are NaN, inf + a finite value is inf), so
    the first layer's z is checked instead, in its bias + ReLU pass (free) or,
    for another activation, by a pass over z if z is narrower than X. Only if
    z has a non-finite value (X's, or an overflow, or non-finite weights) is
    the chunk of X itself checked, and only a non-finite value there stops."""
    cdef Py_ssize_t start = 0, nb
    cdef int L = lay.n_layers
    cdef int n_in = lay.units[0], n_out = lay.units[L]
    cdef bint x_ok = True
    cdef bint* check = &x_ok if check_x and sp == NULL else NULL
    cdef const floating* xc = x
    cdef floating* o
    cdef double now, next_check = cymlp_clock() + check_signals if check_signals > 0 else 0.0
    cdef int raised
    while start < n:
        nb = chunk if n - start > chunk else n - start
        if sp != NULL:
            sp.row0 = start
        else:
            xc = x + start * n_in
        o = out + start * n_out
        _forward(lay, params, xc, sp, nb, acts, o, NULL, check)
        if not x_ok:
            return _NOT_FINITE
        bias_activation(lay.out, o, params + lay.bias_off[L - 1], nb, n_out)
        start += nb
        if check_signals > 0 and start < n:
            now = cymlp_clock()
            if now >= next_check:
                next_check = now + check_signals
                with gil:
                    raised = _check_signals()
                if raised:
                    return _INTERRUPTED
    return _DONE


cdef class Predictor:
    """A network's prediction over one parameter buffer, built once per fitted
    state and then called any number of times, from any number of threads.

    Everything it holds is fixed at construction (the Network's shapes, the
    buffer's address); each call allocates its own scratch, so concurrent
    calls share nothing mutable. ``params`` is only read: a read-only buffer
    (e.g. a memory-mapped model) is used in place, and training in place
    (partial_fit) is seen by the next call.

    Parameters
    ----------
    net : Network
    params : C-contiguous float32 or float64 ndarray of ``net.n_params``
    """
    cdef readonly Network net
    cdef readonly object params, dtype
    cdef const float[::1] p32
    cdef const double[::1] p64
    cdef const int[::1] units
    cdef const Py_ssize_t[::1] coef_off, bias_off
    cdef Layout lay                  # act_off is set per call
    cdef Py_ssize_t hidden_units     # sum of the hidden layers' widths
    cdef bint is64                   # params (and X, out) are float64

    def __init__(self, Network net, params):
        cdef int l
        self.units = net.units
        self.coef_off = net.coef_off
        self.bias_off = net.bias_off
        self.is64 = params.dtype == np.float64
        if params.dtype == np.float32:
            self.p32 = params
        elif self.is64:
            self.p64 = params
        else:
            raise TypeError(f"parameters of dtype {params.dtype}: float32 or float64 expected")
        if params.shape[0] != net.n_params:
            raise ValueError("parameter buffer of the wrong size")
        self.net, self.params, self.dtype = net, params, params.dtype
        self.lay.n_layers = self.units.shape[0] - 1
        self.lay.units = &self.units[0]
        self.lay.coef_off = &self.coef_off[0]
        self.lay.bias_off = &self.bias_off[0]
        self.lay.act_off = NULL
        self.lay.hidden = net.hidden
        self.lay.loss = net.loss
        self.lay.out = net.out
        self.hidden_units = 0
        for l in range(1, self.lay.n_layers):
            self.hidden_units += self.units[l]

    def __reduce__(self):
        raise TypeError("Predictor is rebuilt from the estimator, not pickled")

    def __call__(self, X, Py_ssize_t chunk=1024, bint check_x=False,
                 double check_signals=0.05):
        """Output-layer activations for X (a C-contiguous ndarray of the
        parameters' dtype, or a CSR of it): a new (n, n_outputs) array.

        Rows are processed ``chunk`` at a time; with ``check_x``, a dense X is
        checked for NaN and infinity chunk by chunk (through the first
        product, see ``_predict_rows``; ValueError on a non-finite value). Pending signal handlers (Ctrl-C)
        run every ``check_signals`` seconds between chunks; an exception they
        raise propagates.
        """
        cdef int L = self.lay.n_layers
        cdef Layout lay = self.lay
        cdef SparseBatch spb
        cdef SparseBatch* sp = NULL
        cdef Py_buffer xbuf, obuf
        cdef bint have_x = False, have_out = False
        cdef Py_ssize_t n, B, l
        cdef size_t item = sizeof(double) if self.is64 else sizeof(float)
        cdef const void* x = NULL
        cdef Py_ssize_t* act_off = NULL
        cdef void* acts = NULL
        cdef int status = _DONE
        # the buffer protocol directly: a typed memoryview costs more than a
        # one-row forward pass
        try:
            if isinstance(X, CSR):
                sp = _csr_rows(X, self.dtype, &spb)
                n = (<CSR>X).n_rows
                if (<CSR>X).n_cols != self.units[0]:
                    raise ValueError("X does not match the network")
            else:
                PyObject_GetBuffer(X, &xbuf, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
                have_x = True
                if (xbuf.ndim != 2 or <size_t>xbuf.itemsize != item
                        or xbuf.format[0] != (c'f' if item == sizeof(float) else c'd')
                        or xbuf.format[1] != 0):
                    raise ValueError(f"X must be a 2-D array of {self.dtype}")
                n = xbuf.shape[0]
                if xbuf.shape[1] != self.units[0]:
                    raise ValueError("X does not match the network")
                x = xbuf.buf
            out = np.empty((n, self.units[L]), dtype=self.dtype)
            if n == 0:
                return out
            PyObject_GetBuffer(out, &obuf, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
            have_out = True
            B = max(1, min(chunk, n))
            act_off = <Py_ssize_t*>malloc(L * sizeof(Py_ssize_t))
            acts = malloc(max(1, B * self.hidden_units) * item)
            if act_off == NULL or acts == NULL:
                raise MemoryError()
            act_off[0] = 0
            for l in range(1, L):
                act_off[l] = act_off[l - 1] + B * self.units[l]
            lay.act_off = act_off
            if not self.is64:
                with nogil:
                    status = _predict_rows(&lay, &self.p32[0], <const float*>x, sp, n, B,
                                           <float*>acts, <float*>obuf.buf, check_x,
                                           check_signals)
            else:
                with nogil:
                    status = _predict_rows(&lay, &self.p64[0], <const double*>x, sp, n, B,
                                           <double*>acts, <double*>obuf.buf, check_x,
                                           check_signals)
        finally:
            free(act_off)
            free(acts)
            if have_out:
                PyBuffer_Release(&obuf)
            if have_x:
                PyBuffer_Release(&xbuf)
        if status == _INTERRUPTED:
            _raise_pending()   # a signal handler's exception (KeyboardInterrupt)
        if status == _NOT_FINITE:
            raise ValueError(X_NOT_FINITE)
        return out


cdef double _sq_norm(const Layout* lay, const floating* params) noexcept nogil:
    """sum of squared coefficients (intercepts excluded), as sklearn's L2 term."""
    cdef int l
    cdef double s = 0.0
    cdef const floating* w
    cdef int n
    for l in range(lay.n_layers):
        w = params + lay.coef_off[l]
        n = lay.units[l] * lay.units[l + 1]
        s += dot(n, w, w)
    return s


cdef void _column_sums(const floating* d, Py_ssize_t rows, Py_ssize_t cols,
                       floating* out) noexcept nogil:
    """out[j] = sum_i d[i, j], accumulated row after row (numpy's axis-0 order)."""
    if floating is float:
        cymlp_colsums_f32(d, rows, cols, out)
    else:
        cymlp_colsums_f64(d, rows, cols, out)


cdef void _backward(const Layout* lay, const Step* step, floating* params,
                    floating* grads, floating* s1, floating* s2,
                    const floating* x, const SparseBatch* sp, Py_ssize_t nb,
                    floating* acts, floating* deltas, double sw_sum,
                    Profile* prof) noexcept nogil:
    """Back-propagate deltas[top] (already dLoss/dz of the output, weighted) and,
    per layer, form the gradient and apply ``step.rule``."""
    cdef int l, fi, fo
    cdef Py_ssize_t j
    cdef Py_ssize_t ncoef
    cdef floating* d
    cdef floating* dprev
    cdef const floating* a
    cdef floating* W
    cdef floating* b
    cdef floating* gW
    cdef floating* gb
    cdef floating n_rows = <floating>sw_sum
    cdef floating inv_n = <floating>(1.0 / sw_sum)
    cdef floating alpha = <floating>step.alpha
    cdef floating l2 = <floating>(step.alpha / sw_sum)
    cdef floating lr = <floating>step.lr
    for l in range(lay.n_layers - 1, -1, -1):
        fi = lay.units[l]
        fo = lay.units[l + 1]
        ncoef = <Py_ssize_t>fi * fo
        d = deltas + lay.act_off[l]
        a = x if l == 0 else acts + lay.act_off[l - 1]
        W = params + lay.coef_off[l]
        b = params + lay.bias_off[l]
        gW = grads + lay.coef_off[l]
        gb = grads + lay.bias_off[l]
        if l > 0:
            # delta_{l-1} = (delta_l W_l^T) * f'(a_{l-1}), with W_l not yet updated
            dprev = deltas + lay.act_off[l - 1]
            gemm(False, True, <int>nb, fi, fo, <floating>1.0, d, fo, W, fo,
                 <floating>0.0, dprev, fi)
            _tick(prof, P_BWD_GEMM)
            multiply_derivative(lay.hidden, a, dprev, nb * fi)
        _column_sums(d, nb, fo, gb)
        for j in range(fo):
            gb[j] /= n_rows
        _tick(prof, P_BWD_ELEM)
        if step.rule == SGD_PLAIN:
            # W <- (1 - lr alpha/n) W - (lr/n) a^T d : the update is the gemm
            if l == 0 and sp != NULL:
                if l2 != 0:
                    for j in range(ncoef):
                        W[j] *= 1 - lr * l2
                _sparse_scatter(sp, nb, d, fo, -lr * inv_n, W)
            else:
                gemm(True, False, fi, fo, <int>nb, -lr * inv_n, a, fi, d, fo,
                     1 - lr * l2, W, fo)
            _tick(prof, P_BWD_GEMM)
            for j in range(fo):
                b[j] -= lr * gb[j]
            _tick(prof, P_BWD_ELEM)
            continue
        # the weight gradient, unscaled; finished as (g + alpha W) / n below
        if l == 0 and sp != NULL:
            for j in range(ncoef):
                gW[j] = 0
            _sparse_scatter(sp, nb, d, fo, <floating>1.0, gW)
        else:
            gemm(True, False, fi, fo, <int>nb, <floating>1.0, a, fi, d, fo,
                 <floating>0.0, gW, fo)
        _tick(prof, P_BWD_GEMM)
        if step.rule == GRADIENT_ONLY:
            for j in range(ncoef):
                gW[j] = (gW[j] + alpha * W[j]) / n_rows
        elif step.rule == SGD_MOMENTUM:
            sgd_update(W, gW, s1 + lay.coef_off[l], ncoef, lr,
                       <floating>step.momentum, step.nesterov, alpha, n_rows)
            sgd_update(b, gb, s1 + lay.bias_off[l], fo, lr,
                       <floating>step.momentum, step.nesterov, <floating>0.0,
                       <floating>1.0)
        else:  # ADAM
            adam_update(W, gW, s1 + lay.coef_off[l], s2 + lay.coef_off[l], ncoef,
                        step.lr_t, step.beta1, step.beta2,
                        <floating>step.epsilon, alpha, n_rows)
            adam_update(b, gb, s1 + lay.bias_off[l], s2 + lay.bias_off[l], fo,
                        step.lr_t, step.beta1, step.beta2,
                        <floating>step.epsilon, <floating>0.0, <floating>1.0)
        _tick(prof, P_UPDATE)


cdef class CSR:
    """The arrays of a CSR matrix as the engine reads them (intp indices).

    The structure is checked here, once (indptr monotone from 0 to nnz,
    column indices within range), so the nogil kernels can trust it.

    Parameters
    ----------
    data : ndarray (nnz,), C-contiguous float32 or float64
    indices, indptr : C-contiguous intp ndarrays
    shape : (n_rows, n_cols)
    """
    cdef readonly object data, indices, indptr, dtype
    cdef readonly Py_ssize_t n_rows, n_cols
    cdef SparseBatch rows   # pointers into the arrays above (kept alive here)

    def __init__(self, data, indices, indptr, shape):
        cdef const Py_ssize_t[::1] ind = indices
        cdef const Py_ssize_t[::1] ptr = indptr
        cdef const float[::1] d32
        cdef const double[::1] d64
        self.data, self.indices, self.indptr = data, indices, indptr
        self.dtype = data.dtype
        self.n_rows, self.n_cols = shape
        if (ptr.shape[0] != self.n_rows + 1 or ind.shape[0] != data.shape[0]
                or ptr[0] != 0 or ptr[self.n_rows] != ind.shape[0]
                or np.any(np.diff(indptr) < 0)
                or (ind.shape[0] and (indices.min() < 0 or indices.max() >= self.n_cols))):
            raise ValueError("malformed CSR matrix: indptr must rise from 0 to nnz and "
                             "every column index must lie in [0, n_features)")
        if self.dtype == np.float32:
            d32 = data
            self.rows.data = &d32[0] if d32.shape[0] else NULL
        else:
            d64 = data
            self.rows.data = &d64[0] if d64.shape[0] else NULL
        self.rows.indices = &ind[0] if ind.shape[0] else NULL
        self.rows.indptr = &ptr[0]
        self.rows.rows = NULL
        self.rows.row0 = 0

    @property
    def shape(self):
        return (self.n_rows, self.n_cols)


cdef SparseBatch* _csr_rows(X, dtype, SparseBatch* out) except? NULL:
    """Fill ``out`` with X's row pointers if X is a CSR of ``dtype``; NULL for
    dense X."""
    if not isinstance(X, CSR):
        return NULL
    if (<CSR>X).dtype != dtype:
        raise ValueError("CSR data of dtype %s for a %s network"
                         % ((<CSR>X).dtype, np.dtype(dtype)))
    out[0] = (<CSR>X).rows
    return out


cdef bint _indices_in_range(const Py_ssize_t[::1] idx, Py_ssize_t n) noexcept:
    """Every idx[i] in [0, n): one pass, no Python (an epoch then reads each row)."""
    cdef Py_ssize_t i
    cdef bint ok = True
    with nogil:
        for i in range(idx.shape[0]):
            # unsigned: a negative index compares above n
            ok &= <size_t>idx[i] < <size_t>n
    return ok


cdef inline Py_ssize_t _n_rows(X):
    return (<CSR>X).n_rows if isinstance(X, CSR) else X.shape[0]


cdef inline Py_ssize_t _n_cols(X):
    return (<CSR>X).n_cols if isinstance(X, CSR) else X.shape[1]


cdef class StepRule:
    """The optimizer's settings for one epoch's steps: what ``train_epoch``
    applies after each minibatch's gradient.

    Built by the facade's optimizer (``cymlp._solvers._Optimizer.step_rule``)
    from the settings it was built with and its current learning rate;
    read-only once built.

    Parameters
    ----------
    solver : {'sgd', 'adam'}
    learning_rate : float
        SGD's current learning rate, or Adam's ``learning_rate_init`` (the
        engine derives Adam's per-step rate from its step count).
    alpha : float
        L2 penalty.
    momentum : float, default 0.0
        SGD's momentum; 0 selects plain SGD (no velocity buffer).
    nesterov : bool, default False
        SGD's Nesterov momentum.
    beta1, beta2, epsilon : float, default 0.9, 0.999, 1e-8
        Adam's settings.
    """
    cdef readonly str solver
    cdef Step step   # what the engine reads; the properties below show it

    def __init__(self, str solver, double learning_rate, *, double alpha,
                 double momentum=0.0, bint nesterov=False, double beta1=0.9,
                 double beta2=0.999, double epsilon=1e-8):
        if solver == "adam":
            self.step.rule = ADAM
            momentum, nesterov = 0.0, False   # not Adam's settings
        elif solver == "sgd":
            self.step.rule = SGD_MOMENTUM if momentum != 0 else SGD_PLAIN
        else:
            raise ValueError(f"solver must be 'sgd' or 'adam', got {solver!r}")
        self.solver = solver
        self.step.lr = self.step.lr_t = learning_rate
        self.step.alpha = alpha
        self.step.momentum = momentum
        self.step.nesterov = nesterov
        self.step.beta1 = beta1
        self.step.beta2 = beta2
        self.step.epsilon = epsilon

    @property
    def learning_rate(self):
        return self.step.lr

    @property
    def alpha(self):
        return self.step.alpha

    @property
    def momentum(self):
        return self.step.momentum

    @property
    def nesterov(self):
        return bool(self.step.nesterov)

    @property
    def beta1(self):
        return self.step.beta1

    @property
    def beta2(self):
        return self.step.beta2

    @property
    def epsilon(self):
        return self.step.epsilon

    def __repr__(self):
        if self.solver == "adam":
            more = (f"beta1={self.beta1!r}, beta2={self.beta2!r}, "
                    f"epsilon={self.epsilon!r}")
        else:
            more = f"momentum={self.momentum!r}, nesterov={self.nesterov!r}"
        return (f"StepRule({self.solver!r}, {self.learning_rate!r}, "
                f"alpha={self.alpha!r}, {more})")


def train_epoch(Network net, Workspace ws, X, const floating[:, ::1] Y,
                sample_weight, order, floating[::1] params, floating[::1] grads,
                floating[::1] state1, floating[::1] state2, StepRule rule not None,
                long long t, bint check_x=False, double[::1] profile=None,
                double check_signals=0.05):
    """Run one epoch of minibatch training in place, without the GIL.

    Parameters
    ----------
    net, ws : Network, Workspace
        Shapes and the preallocated minibatch buffers (ws.batch_size rows).
    X : ndarray (n, n_features), C-contiguous, in params' dtype; or CSR.
    Y : ndarray (n, n_outputs), C-contiguous, in params' dtype.
    sample_weight : ndarray (n,) or None.
    order : intp ndarray (n,) or None
        Row order of this epoch (None: rows in order, no gathering).
    params : flat parameters, updated in place.
    grads : flat gradient scratch of the same size.
    state1, state2 : optimizer state (SGD velocities; Adam first and second
        moments), updated in place.
    rule : StepRule
        The optimizer's settings (momentum == 0 selects the plain-SGD fast
        path).
    t : int
        Adam's step count before this epoch.
    check_x : bool
        Check every gathered value of a dense X for NaN and infinity (with
        ``order``; the epoch then reads every row once). Raises ValueError on
        the first non-finite value, with params already partly updated.
    profile : float64 ndarray (len(PROFILE_PHASES),) or None
        If given, the wall time of each phase of every step is added to it
        (seconds; one clock read per phase boundary, about 20 per step).
    check_signals : float
        Run pending signal handlers (Ctrl-C) every this many seconds, between
        minibatches; an exception they raise stops the epoch and propagates,
        with ``ws.steps`` the steps taken. <= 0: never.

    Returns
    -------
    accumulated_loss : float
        sum over minibatches of batch_loss * batch_rows (scikit-learn's).
    t : int
        Adam's step count after the epoch.

    A non-finite minibatch loss does not stop the epoch, as in scikit-learn:
    what fails a fit is non-finite final weights (the facade's check).
    """
    cdef const int[::1] units = net.units
    cdef const Py_ssize_t[::1] coef_off = net.coef_off
    cdef const Py_ssize_t[::1] bias_off = net.bias_off
    cdef const Py_ssize_t[::1] act_off = ws.act_off
    cdef floating[::1] xb = ws.xb
    cdef floating[::1] yb = ws.yb
    cdef floating[::1] swb = ws.swb
    cdef floating[::1] acts = ws.acts
    cdef floating[::1] deltas = ws.deltas
    cdef const floating[:, ::1] Xd
    cdef const floating[::1] sw
    cdef const Py_ssize_t[::1] idx
    cdef Layout lay
    cdef Step step
    cdef SparseBatch spb
    cdef SparseBatch* sp = NULL
    cdef Py_ssize_t n = _n_rows(X), nin = _n_cols(X), K = Y.shape[1]
    cdef Py_ssize_t bs = ws.batch_size, start = 0, nb, i, r
    cdef bint has_sw = sample_weight is not None
    cdef bint has_order = order is not None
    cdef double acc = 0.0, sw_sum, batch_loss
    cdef const floating* x = NULL
    cdef const floating* y
    cdef const floating* swp = NULL
    cdef floating* top
    cdef int L = units.shape[0] - 1
    cdef const floating* ahead
    cdef bint x_finite = True
    cdef Profile prof_acc
    cdef Profile* prof = NULL
    cdef long long steps = 0
    cdef double now, next_check = 0.0

    if ws.net is not net:
        raise ValueError("this Workspace was built for another Network")
    if nin != units[0] or Y.shape[1] != units[L] or Y.shape[0] != n:
        raise ValueError("X or Y does not match the network")
    if params.shape[0] != net.n_params or grads.shape[0] != net.n_params:
        raise ValueError("parameter buffer of the wrong size")
    ws.steps = 0
    if n == 0:
        return 0.0, t
    # (the Workspace's dtype: np.asarray of a memoryview costs a microsecond)
    sp = _csr_rows(X, ws.acts.dtype, &spb) if isinstance(X, CSR) else NULL
    if sp == NULL:
        Xd = X
    if has_sw:
        sw = sample_weight
        if sw.shape[0] != n:
            raise ValueError("sample_weight of the wrong length")
    if has_order:
        idx = order
        if idx.shape[0] != n:
            raise ValueError("order of the wrong length")
        if not _indices_in_range(idx, n):
            raise ValueError(f"order holds row indices outside [0, {n})")
        if sp == NULL and xb.shape[0] < bs * nin:
            raise ValueError("dense shuffled minibatches need a Workspace with gather_x")
    if check_x and (sp != NULL or not has_order):
        raise ValueError("check_x needs a dense X read in a given order")
    _layout(&lay, net, units, coef_off, bias_off, act_off)
    step = rule.step
    if step.rule == ADAM:
        if state1.shape[0] != net.n_params or state2.shape[0] != net.n_params:
            raise ValueError("Adam state of the wrong size")
    elif step.rule == SGD_MOMENTUM:
        if state1.shape[0] != net.n_params:
            raise ValueError("SGD state of the wrong size")
    top = &deltas[0] + act_off[L - 1]
    if profile is not None:
        if profile.shape[0] != N_PHASES:
            raise ValueError("profile needs one entry per phase of PROFILE_PHASES")
        prof = &prof_acc
        prof.seconds = &profile[0]

    with nogil:
        if prof != NULL:
            prof.t = cymlp_clock()
        if check_signals > 0:
            next_check = cymlp_clock() + check_signals
        while start < n:
            nb = bs if n - start > bs else n - start
            if has_order:
                if sp != NULL:
                    spb.rows = &idx[start]
                for i in range(nb):
                    r = idx[start + i]
                    if sp == NULL:
                        ahead = NULL
                        if start + i + PREFETCH_ROWS < n:
                            ahead = &Xd[idx[start + i + PREFETCH_ROWS], 0]
                        if not _copy_row(&xb[0] + i * nin, &Xd[r, 0], nin, ahead, check_x):
                            x_finite = False
                            break
                    memcpy(&yb[0] + i * K, &Y[r, 0], K * sizeof(floating))
                    if has_sw:
                        swb[i] = sw[r]
                if not x_finite:
                    break
                if sp == NULL:
                    x = &xb[0]
                y = &yb[0]
                if has_sw:
                    swp = &swb[0]
            else:
                if sp != NULL:
                    spb.row0 = start
                else:
                    x = &Xd[start, 0]
                y = &Y[start, 0]
                if has_sw:
                    swp = &sw[start]
            if has_sw:
                sw_sum = 0.0
                for i in range(nb):
                    sw_sum += swp[i]
            else:
                sw_sum = <double>nb
            _tick(prof, P_GATHER)
            # the output layer's z goes to acts; its delta to deltas
            _forward(&lay, &params[0], x, sp, nb, &acts[0], &acts[0] + act_off[L - 1], prof)
            batch_loss = loss_and_delta(lay.loss, &acts[0] + act_off[L - 1],
                                        &params[0] + bias_off[L - 1], y, swp,
                                        top, nb, K) / sw_sum
            if step.alpha != 0:
                batch_loss += (0.5 * step.alpha) * _sq_norm(&lay, &params[0]) / sw_sum
            _tick(prof, P_LOSS)
            # a non-finite batch loss trains on, as scikit-learn's does
            acc += batch_loss * nb
            if step.rule == ADAM:
                t += 1
                step.lr_t = (step.lr * sqrt(1 - pow(step.beta2, <double>t))
                             / (1 - pow(step.beta1, <double>t)))
            _backward(&lay, &step, &params[0], &grads[0],
                      &state1[0] if state1.shape[0] else NULL,
                      &state2[0] if state2.shape[0] else NULL,
                      x, sp, nb, &acts[0], &deltas[0], sw_sum, prof)
            start += nb
            steps += 1
            if check_signals > 0 and start < n:
                now = cymlp_clock()
                if now >= next_check:
                    next_check = now + check_signals
                    with gil:
                        ws.steps = steps
                        PyErr_CheckSignals()  # a handler's exception propagates
    ws.steps = steps
    if not x_finite:
        raise ValueError(X_NOT_FINITE)
    return acc, t


def loss_and_gradient(Network net, Workspace ws, X, const floating[:, ::1] Y,
                      sample_weight, const floating[::1] params, floating[::1] grads,
                      double alpha):
    """Full-batch objective and its gradient (for L-BFGS and gradient checks).

    ``X`` is a dense C-contiguous array or a CSR; ``ws`` (built for ``net``)
    must hold all its rows. ``params`` is only read (it may be read-only, e.g.
    memory-mapped). Returns scikit-learn's loss (weighted mean loss
    + alpha/2 ||W||^2 / n) and writes its gradient, in the flat packing order,
    to ``grads``.
    """
    cdef const int[::1] units = net.units
    cdef const Py_ssize_t[::1] coef_off = net.coef_off
    cdef const Py_ssize_t[::1] bias_off = net.bias_off
    cdef const Py_ssize_t[::1] act_off = ws.act_off
    cdef floating[::1] acts = ws.acts
    cdef floating[::1] deltas = ws.deltas
    cdef const floating[:, ::1] Xd
    cdef const floating[::1] sw
    cdef const floating* swp = NULL
    cdef const floating* x = NULL
    cdef Layout lay
    cdef Step step
    cdef SparseBatch spb
    cdef SparseBatch* sp = NULL
    cdef Py_ssize_t n = _n_rows(X), i
    cdef int L = units.shape[0] - 1
    cdef double sw_sum, loss

    if ws.net is not net:
        raise ValueError("this Workspace was built for another Network")
    if _n_cols(X) != units[0] or Y.shape[1] != units[L] or Y.shape[0] != n:
        raise ValueError("X or Y does not match the network")
    if n > ws.batch_size or n == 0:
        raise ValueError("workspace too small, or no rows")
    if params.shape[0] != net.n_params or grads.shape[0] != net.n_params:
        raise ValueError("parameter buffer of the wrong size")
    sp = _csr_rows(X, np.asarray(params).dtype, &spb)
    if sp == NULL:
        Xd = X
        x = &Xd[0, 0]
    if sample_weight is not None:
        sw = sample_weight
        if sw.shape[0] != n:
            raise ValueError("sample_weight of the wrong length")
        swp = &sw[0]
    _layout(&lay, net, units, coef_off, bias_off, act_off)
    step.rule = GRADIENT_ONLY
    step.alpha = alpha
    step.lr = 0
    with nogil:
        if swp != NULL:
            sw_sum = 0.0
            for i in range(n):
                sw_sum += swp[i]
        else:
            sw_sum = <double>n
        _forward(&lay, &params[0], x, sp, n, &acts[0], &acts[0] + act_off[L - 1], NULL)
        loss = loss_and_delta(lay.loss, &acts[0] + act_off[L - 1],
                              &params[0] + bias_off[L - 1], &Y[0, 0], swp,
                              &deltas[0] + act_off[L - 1], n, Y.shape[1]) / sw_sum
        if alpha != 0:
            loss += (0.5 * alpha) * _sq_norm(&lay, &params[0]) / sw_sum
        # GRADIENT_ONLY never writes the parameters: the cast drops a const
        # that _backward's update rules (not this one) need to drop
        _backward(&lay, &step, <floating*>&params[0], &grads[0], NULL, NULL, x, sp, n,
                  &acts[0], &deltas[0], sw_sum, NULL)
    return loss


def predict(Network net, X, const floating[::1] params, floating[:, ::1] out,
            Py_ssize_t chunk=1024, bint check_x=False, double check_signals=0.05):
    """Output-layer activations for X (dense C-contiguous, or CSR) into ``out``
    (n x n_outputs), without the GIL. ``params`` is only read (it may be
    read-only, e.g. memory-mapped).

    Rows are processed ``chunk`` at a time through per-call buffers; the last
    layer's product is written straight into ``out``. With ``check_x``, each
    chunk of a dense X is checked for NaN and infinity right after its
    products have read it, from cache (ValueError on a non-finite value).
    Pending signal handlers (Ctrl-C) run every ``check_signals`` seconds
    between chunks; an exception they raise propagates.
    """
    cdef const int[::1] units = net.units
    cdef const Py_ssize_t[::1] coef_off = net.coef_off
    cdef const Py_ssize_t[::1] bias_off = net.bias_off
    cdef const floating[:, ::1] Xd
    cdef SparseBatch spb
    cdef SparseBatch* sp = NULL
    cdef Py_ssize_t n = _n_rows(X)
    cdef int L = units.shape[0] - 1
    cdef Layout lay
    cdef Workspace ws
    cdef const Py_ssize_t[::1] act_off
    cdef floating[::1] acts
    cdef const floating* x = NULL
    cdef int status = _DONE
    if _n_cols(X) != units[0] or out.shape[0] != n or out.shape[1] != units[L]:
        raise ValueError("X or out does not match the network")
    if params.shape[0] != net.n_params:
        raise ValueError("parameter buffer of the wrong size")
    if n == 0:
        return
    sp = _csr_rows(X, np.asarray(params).dtype, &spb)
    if sp == NULL:
        Xd = X
        x = &Xd[0, 0]
    chunk = max(1, min(chunk, n))
    ws = Workspace(net, chunk, np.asarray(out).dtype, False)
    act_off = ws.act_off
    acts = ws.acts
    _layout(&lay, net, units, coef_off, bias_off, act_off)
    with nogil:
        status = _predict_rows(&lay, &params[0], x, sp, n, chunk, &acts[0], &out[0, 0],
                               check_x, check_signals)
    if status == _INTERRUPTED:
        _raise_pending()   # a signal handler's exception (KeyboardInterrupt)
    if status == _NOT_FINITE:
        raise ValueError(X_NOT_FINITE)


def build_info():
    """What this build of the engine is: the C compiler it was compiled with and
    its SIMD variants (for ``cymlp.show_versions()``).

    Returns
    -------
    info : dict
        ``compiler`` (str), ``simd_compiled`` (list of the variants in this
        build), ``simd_supported`` (those this CPU can run), ``simd_in_use``
        (the variant the kernels run, CYMLP_SIMD's if set) and
        ``simd_requested`` (CYMLP_SIMD at import, or None).
    """
    return {
        "compiler": CYMLP_COMPILER.decode(),
        "simd_compiled": simd_names(True, False),
        "simd_supported": simd_names(True, True),
        "simd_in_use": SIMD_VARIANT,
        "simd_requested": _SIMD_REQUESTED,
    }
