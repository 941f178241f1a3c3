"""The implementations the benchmark compares.

Every implementation trains the same network (ReLU hidden layers, softmax
output, cross-entropy), with minibatch SGD (or the solver of the spec), the
same batch logic (a new permutation each epoch, minibatches as consecutive
slices of it, the last one smaller) and Glorot-uniform initialisation (as
scikit-learn). Each has three steps:

``prepare(X, y)``  untimed: converts the data (torch tensors, ...).
``fit(data, spec)`` timed: returns (seconds, model). The seconds are the wall
                   time of the fit (``time.perf_counter``), except for the
                   gemm-only limit, which returns the time of its products.
``predict(model, X)`` untimed: class labels (for accuracy).
"""

import time
import warnings
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Spec:
    """One training run."""

    hidden: tuple
    lr: float
    batch: int
    epochs: int
    solver: str = "sgd"
    momentum: float = 0.0
    nesterov: bool = False
    seed: int = 0

    def with_(self, **kw):
        return replace(self, **kw)


def layer_units(n_features, spec, n_classes):
    return [int(n_features)] + [int(h) for h in spec.hidden] + [int(n_classes)]


def sklearn_params(spec):
    """scikit-learn's constructor parameters for the spec: no early stop, no
    tolerance, no regularisation, constant learning rate."""
    return dict(
        hidden_layer_sizes=tuple(spec.hidden),
        activation="relu",
        solver=spec.solver,
        alpha=0.0,
        batch_size=spec.batch,
        learning_rate="constant",
        learning_rate_init=spec.lr,
        max_iter=spec.epochs,
        shuffle=True,
        random_state=spec.seed,
        tol=0.0,
        verbose=False,
        warm_start=False,
        momentum=spec.momentum,
        nesterovs_momentum=spec.nesterov,
        early_stopping=False,
        n_iter_no_change=spec.epochs + 1,
    )


class Impl:
    name = "?"
    available = True
    why_unavailable = ""
    has_model = True

    def prepare(self, X, y):
        return X, y

    def fit(self, data, spec):
        raise NotImplementedError

    def predict(self, model, X):
        raise NotImplementedError

    def set_threads(self, n):
        """Per-library thread setting besides threadpoolctl (torch)."""


class EstimatorImpl(Impl):
    """scikit-learn's MLPClassifier or cymlp's drop-in replacement."""

    def __init__(self, name, cls):
        self.name = name
        self.cls = cls

    def make(self, spec):
        return self.cls(**sklearn_params(spec))

    def fit(self, data, spec):
        X, y = data
        est = self.make(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ConvergenceWarning
            t0 = time.perf_counter()
            est.fit(X, y)
            t = time.perf_counter() - t0
        return t, est

    def predict(self, model, X):
        return model.predict(X)


def sklearn_impl():
    from sklearn.neural_network import MLPClassifier

    return EstimatorImpl("sklearn", MLPClassifier)


def cymlp_impl():
    impl = EstimatorImpl("cymlp", None)
    try:
        import cymlp

        impl.cls = cymlp.MLPClassifier
    except Exception as exc:   # not built, or no facade yet
        impl.available = False
        impl.why_unavailable = "%s: %s" % (type(exc).__name__, exc)
    return impl


class GemmOnlyImpl(Impl):
    """The ceiling: only the matrix products of the same training steps, through
    the engine's BLAS (scipy's) at the same dtype and threads."""

    name = "gemm-only"
    has_model = False

    def __init__(self):
        from cymlp._bench import gemm_only_seconds

        self._gemm = gemm_only_seconds

    def prepare(self, X, y):
        return X.shape[0], X.shape[1], int(np.unique(y).size), X.dtype

    def steps(self, n, spec):
        return steps_of(n, spec.batch, spec.epochs)

    def fit(self, data, spec):
        n, nf, k, dtype = data
        units = layer_units(nf, spec, k)
        return gemm_seconds(self._gemm, units, n, min(spec.batch, n), dtype, spec.epochs), None


def steps_of(n, batch, epochs):
    """[(rows, steps)] of ``epochs`` epochs over n samples in batches."""
    batch = min(batch, n)
    full, rem = divmod(n, batch)
    out = [(batch, full * epochs)]
    if rem:
        out.append((rem, epochs))
    return out


def gemm_seconds(gemm, units, n, batch, dtype, epochs, forward_only=False):
    return sum(gemm(units, rows, dtype, steps, forward_only=forward_only)
               for rows, steps in steps_of(n, batch, epochs) if steps)


def glorot(rng, fan_in, fan_out, dtype):
    """scikit-learn's initialisation for ReLU networks."""
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    W = rng.uniform(-bound, bound, (fan_in, fan_out))
    b = rng.uniform(-bound, bound, fan_out)
    return W.astype(dtype), b.astype(dtype)


class NumpyImpl(Impl):
    """Plain NumPy minibatch SGD, written to be fair: buffers allocated once
    per fit, products with ``np.matmul(..., out=)``, in-place bias/ReLU/softmax,
    the learning rate folded into the output delta so that each update is one
    product and one in-place subtraction. Computes the batch loss as the
    others do. Only plain SGD (momentum 0)."""

    name = "numpy"

    def fit(self, data, spec):
        X, y = data
        if spec.solver != "sgd" or spec.momentum != 0:
            raise ValueError("the NumPy baseline implements plain SGD only")
        t0 = time.perf_counter()
        model = self._fit(X, y, spec)
        return time.perf_counter() - t0, model

    @staticmethod
    def _fit(X, y, spec):
        dtype = X.dtype
        n, nf = X.shape
        classes, yi = np.unique(y, return_inverse=True)
        K = classes.size
        Y = np.zeros((n, K), dtype=dtype)
        Y[np.arange(n), yi] = 1
        units = layer_units(nf, spec, K)
        L = len(units) - 1
        rng = np.random.RandomState(spec.seed)
        Ws, bs = map(list, zip(*(glorot(rng, fi, fo, dtype) for fi, fo in zip(units[:-1], units[1:]))))
        B = min(spec.batch, n)
        xb = np.empty((B, nf), dtype)
        yb = np.empty((B, K), dtype)
        acts = [np.empty((B, u), dtype) for u in units[1:]]
        deltas = [np.empty((B, u), dtype) for u in units[1:]]
        masks = [np.empty((B, u), bool) for u in units[1:-1]]
        gWs = [np.empty_like(W) for W in Ws]
        gbs = [np.empty_like(b) for b in bs]
        rowmax = np.empty((B, 1), dtype)
        rows = np.arange(B)
        lr = spec.lr
        for _ in range(spec.epochs):
            perm = rng.permutation(n)
            for s in range(0, n, B):
                idx = perm[s:s + B]
                nb = idx.shape[0]
                x = xb[:nb]
                t = yb[:nb]
                np.take(X, idx, axis=0, out=x)
                np.take(Y, idx, axis=0, out=t)
                # forward
                a = x
                for k in range(L):
                    z = acts[k][:nb]
                    np.matmul(a, Ws[k], out=z)
                    z += bs[k]
                    if k < L - 1:
                        np.maximum(z, 0, out=z)
                    a = z
                # softmax in place, then the cross-entropy of the batch
                m = rowmax[:nb]
                np.max(a, axis=1, keepdims=True, out=m)
                a -= m
                np.exp(a, out=a)
                np.sum(a, axis=1, keepdims=True, out=m)
                a /= m
                loss = -np.log(np.maximum(a[rows[:nb], yi[idx]], 1e-30)).mean()
                if not np.isfinite(loss):
                    raise FloatingPointError("non-finite loss")
                # delta of the output, with lr / nb folded in
                d = deltas[L - 1][:nb]
                np.subtract(a, t, out=d)
                d *= dtype.type(lr / nb)
                for k in range(L - 1, -1, -1):
                    a_in = x if k == 0 else acts[k - 1][:nb]
                    if k > 0:   # input delta with the old weights, masked by ReLU'
                        dp = deltas[k - 1][:nb]
                        np.matmul(d, Ws[k].T, out=dp)
                        mk = masks[k - 1][:nb]
                        np.greater(a_in, 0, out=mk)
                        np.multiply(dp, mk, out=dp)
                    np.matmul(a_in.T, d, out=gWs[k])
                    Ws[k] -= gWs[k]
                    np.sum(d, axis=0, out=gbs[k])
                    bs[k] -= gbs[k]
                    d = deltas[k - 1][:nb] if k > 0 else None
        return classes, Ws, bs

    def predict(self, model, X):
        classes, Ws, bs = model
        a = X
        for W, b in zip(Ws, bs):
            a = a @ W + b
            if W is not Ws[-1]:
                np.maximum(a, 0, out=a)
        return classes[np.argmax(a, axis=1)]


class TorchImpl(Impl):
    """PyTorch on the CPU: nn.Sequential of Linear/ReLU, CrossEntropyLoss,
    optim.SGD (or Adam), tensors preloaded; each epoch a new permutation,
    minibatches by slicing it and indexing the tensors."""

    name = "torch"

    def __init__(self):
        try:
            import torch
        except ImportError:
            self.available = False
            self.why_unavailable = "not installed"
            return
        self.torch = torch

    def set_threads(self, n):
        if self.available:
            self.torch.set_num_threads(int(n))

    def prepare(self, X, y):
        torch = self.torch
        classes, yi = np.unique(y, return_inverse=True)
        return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(yi.astype(np.int64)), classes

    def fit(self, data, spec):
        torch = self.torch
        nn = torch.nn
        Xt, yt, classes = data
        t0 = time.perf_counter()
        n, nf = Xt.shape
        units = layer_units(nf, spec, classes.size)
        rng = np.random.RandomState(spec.seed)
        layers = []
        for i, (fi, fo) in enumerate(zip(units[:-1], units[1:])):
            lin = nn.Linear(fi, fo, dtype=Xt.dtype)
            W, b = glorot(rng, fi, fo, np.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(units) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        if spec.solver == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=spec.lr, momentum=spec.momentum,
                                  nesterov=spec.nesterov)
        crit = nn.CrossEntropyLoss()
        g = torch.Generator().manual_seed(spec.seed)
        B = min(spec.batch, n)
        for _ in range(spec.epochs):
            perm = torch.randperm(n, generator=g)
            for s in range(0, n, B):
                idx = perm[s:s + B]
                xb = Xt[idx]
                yb = yt[idx]
                opt.zero_grad(set_to_none=True)
                loss = crit(model(xb), yb)
                loss.backward()
                opt.step()
        return time.perf_counter() - t0, (model, classes)

    def predict(self, model, X):
        model, classes = model
        with self.torch.no_grad():
            out = model(self.torch.from_numpy(np.ascontiguousarray(X)))
        return classes[out.argmax(1).numpy()]


def all_impls():
    """gemm-only first (the reference), then cymlp, then the peers."""
    return [GemmOnlyImpl(), cymlp_impl(), sklearn_impl(), TorchImpl(), NumpyImpl()]
