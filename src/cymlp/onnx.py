"""ONNX export of cymlp's estimators, through skl2onnx.

Importing this module registers :class:`cymlp.MLPClassifier` and
:class:`cymlp.MLPRegressor` with skl2onnx, so that ``skl2onnx.to_onnx`` and
``skl2onnx.convert_sklearn`` convert them, alone or inside a Pipeline::

    import cymlp.onnx
    onx = cymlp.onnx.to_onnx(model, X[:1])      # or skl2onnx.to_onnx(model, X[:1])

The graph computes in the dtype of its input: float32 for a float32 (or
integer) input, float64 for a float64 one, whatever the dtype the model was
fitted in (its parameters are converted to the graph's dtype).

What each kind of model produces (names as skl2onnx gives them):

- classifier, with ``options={id(model): {"zipmap": False}}``: ``label``, the
  values ``predict`` returns, and ``probabilities``, ``predict_proba``'s
  ``(n, n_classes)`` array. With the default ZipMap, ``output_label`` and
  ``output_probability`` (a list of ``{class: probability}`` dicts), as for
  any skl2onnx classifier.

  * integer labels: an int64 ``label``; string labels: a string ``label``;
  * float labels (sklearn accepts only integral ones): a ``label`` of the
    labels' own float dtype (skl2onnx's own MLP converter casts them to int);
  * bool labels: a bool ``label``; ZipMap keys are then the integers 0, 1;
  * multilabel (an indicator matrix ``y``): an int64 ``(n, n_labels)``
    ``label`` matrix of 0 and 1, as ``predict`` returns.

  The label is computed from the probabilities as ``predict`` computes it:
  the class of the largest probability (softmax output), or the positive
  class when its probability is strictly above 0.5 (one logistic output, and
  each column of a multilabel model).
- regressor: ``variable``, of shape ``(n, n_outputs)`` (``(n, 1)`` for one
  output, where ``predict`` returns ``(n,)``); ``loss="poisson"`` models
  include their exponential output.

With the default ZipMap, whose ONNX definition takes float32 probabilities
only, a float64 graph casts its probabilities to float32 for the ZipMap (the
label is still computed in float64); ``zipmap=False`` or ``"columns"`` keep
the graph's dtype.

Only public fitted attributes are read: ``coefs_``, ``intercepts_``,
``activation``, ``out_activation_``, ``n_outputs_`` and ``classes_`` (a
multilabel model is the one with several logistic output units).
"""

import numpy as np

try:
    import onnx
    import onnx.numpy_helper
    from skl2onnx import to_onnx as _skl2onnx_to_onnx
    from skl2onnx import update_registered_converter
    from skl2onnx._parse import _apply_zipmap
    from skl2onnx.common._registration import register_converter, register_shape_calculator
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        Float16TensorType,
        FloatTensorType,
        Int64TensorType,
        UInt64TensorType,
        StringTensorType,
        guess_tensor_type,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "cymlp.onnx needs skl2onnx and onnx (and onnxruntime to run the exported "
        "models): pip install 'cymlp[onnx]'"
    ) from exc

from sklearn.utils.validation import check_is_fitted

from cymlp import MLPClassifier, MLPRegressor

__all__ = ["to_onnx"]

_TP = onnx.TensorProto

# ONNX operator of each activation (hidden layers and output layer)
_ACTIVATION_OPS = {
    "identity": None,
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "softmax": "Softmax",
    "exp": "Exp",
}

# ONNX element type of a class label array: (tensor type, its skl2onnx type)
_LABEL_TYPES = {
    "int": (_TP.INT64, Int64TensorType),
    "uint64": (_TP.UINT64, UInt64TensorType),  # unsigned labels beyond int64's range
    "string": (_TP.STRING, StringTensorType),
    "bool": (_TP.BOOL, BooleanTensorType),
    np.dtype(np.float64): (_TP.DOUBLE, DoubleTensorType),
    np.dtype(np.float32): (_TP.FLOAT, FloatTensorType),
    np.dtype(np.float16): (_TP.FLOAT16, Float16TensorType),
}


def to_onnx(model, X=None, **kwargs):
    """Convert a fitted cymlp estimator (or a Pipeline ending in one) to ONNX.

    ``skl2onnx.to_onnx(model, X, **kwargs)``, with cymlp's converters
    registered (importing :mod:`cymlp.onnx` registers them, so plain
    ``skl2onnx.to_onnx`` works too). ``X`` (a few rows are enough) sets the
    input's name, type and width: a float64 ``X`` gives a float64 graph, a
    float32 one a float32 graph. Keyword arguments (``options``,
    ``target_opset``, ``initial_types``, ...) are skl2onnx's.

    Returns an ``onnx.ModelProto``.
    """
    return _skl2onnx_to_onnx(model, X, **kwargs)


# -- helpers ----------------------------------------------------------------

def _graph_dtype(input_type):
    """The graph computes in float64 for a float64 input, float32 otherwise."""
    if isinstance(input_type, DoubleTensorType):
        return np.float64, _TP.DOUBLE
    return np.float32, _TP.FLOAT


def _check_model(model):
    check_is_fitted(model)
    for act in (model.activation, model.out_activation_):
        if act not in _ACTIVATION_OPS:
            raise ValueError(f"cymlp.onnx: no ONNX operator for activation {act!r}")


def _check_input_width(operator, model):
    """A clear error now rather than a MatMul failure in the runtime."""
    shape = operator.inputs[0].type.shape
    n_features = model.coefs_[0].shape[0]
    if len(shape) == 2 and isinstance(shape[1], int) and shape[1] != n_features:
        raise ValueError(
            f"X has {shape[1]} features, but {type(model).__name__} is expecting "
            f"{n_features} features as input.")


def _is_multilabel(model):
    # one logistic unit per label; a binary model has a single logistic unit
    return model.out_activation_ == "logistic" and model.n_outputs_ > 1


def _label_kind(classes):
    """'int', 'string', 'bool' or the float dtype of the class labels."""
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind == "b":
        return "bool"
    if kind in "iu":
        if classes.size and classes.max() > np.iinfo(np.int64).max:
            return "uint64"
        return "int"
    if kind == "f":
        if classes.dtype not in _LABEL_TYPES:
            raise ValueError(
                f"cymlp.onnx: float class labels of dtype {classes.dtype} are not "
                "supported (float16, float32 and float64 are)")
        return classes.dtype
    if kind in "US" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        return "string"
    raise ValueError(f"cymlp.onnx: unsupported class label dtype {classes.dtype}")


def _label_tensor(classes, kind):
    """The class labels as (values for an initializer, ONNX element type)."""
    onnx_type = _LABEL_TYPES[kind][0]
    if kind in ("int", "uint64"):
        return np.asarray(classes).astype(np.int64 if kind == "int" else np.uint64), onnx_type
    if kind == "string":
        return np.array([str(c).encode("utf-8") for c in classes]), onnx_type
    if kind == "bool":
        return np.asarray(classes, dtype=bool), onnx_type
    return np.asarray(classes, dtype=kind), onnx_type


def _add_node(scope, container, op_type, inputs, **attrs):
    """Add one node; return the name of its (unique) output."""
    out = scope.get_unique_variable_name(op_type.lower())
    container.add_node(op_type, inputs, out, name=scope.get_unique_operator_name(op_type),
                       **attrs)
    return out


def _add_constant(scope, container, name, values, onnx_type):
    """An initializer holding ``values`` (whose dtype is that of ``onnx_type``)."""
    values = np.asarray(values)
    cname = scope.get_unique_variable_name(name)
    if onnx_type == _TP.STRING:
        content = values.ravel().tolist()
    else:  # the raw bytes, exactly (and fast for large layers)
        content = onnx.numpy_helper.from_array(values)
        assert content.data_type == onnx_type, (content.data_type, onnx_type)
    container.add_initializer(cname, onnx_type, list(values.shape), content)
    return cname


def _forward(scope, container, model, input_name, dtype, proto):
    """Nodes of the forward pass; returns the name of the output layer's activations."""
    x = _add_node(scope, container, "Cast", [input_name], to=proto)
    n_layers = len(model.coefs_)
    for i, (coef, intercept) in enumerate(zip(model.coefs_, model.intercepts_)):
        w = _add_constant(scope, container, "coefficient", np.asarray(coef, dtype=dtype), proto)
        b = _add_constant(scope, container, "intercepts",
                          np.asarray(intercept, dtype=dtype).reshape(1, -1), proto)
        x = _add_node(scope, container, "MatMul", [x, w])
        x = _add_node(scope, container, "Add", [x, b])
        act = model.activation if i < n_layers - 1 else model.out_activation_
        op = _ACTIVATION_OPS[act]
        if op == "Softmax":
            x = _add_node(scope, container, op, [x], axis=1)
        elif op is not None:
            x = _add_node(scope, container, op, [x])
    return x


# -- classifier ---------------------------------------------------------------

def _classifier_label_kind(scope, model):
    if _is_multilabel(model):
        return "multilabel"
    return _label_kind(get_label_classes(scope, model))


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """Outputs of a classifier, with skl2onnx's options zipmap, nocl and output_class_labels.

    Unlike skl2onnx's classifier parser, the label keeps the labels' own type
    (float and bool labels are not cast to int64), and ZipMap, whose ONNX
    definition takes float32 probabilities only, gets them cast to float32 in
    a float64 graph (the label is still computed in float64).
    """
    _check_model(model)
    kind = _classifier_label_kind(scope, model)
    options = scope.get_options(model, dict(zipmap=True, output_class_labels=False))
    zipmap = options["zipmap"]
    if zipmap is not False and options["output_class_labels"]:
        raise RuntimeError("Option 'output_class_labels' is not compatible with option 'zipmap'.")
    op = scope.declare_local_operator(_CLASSIFIER_ALIAS, model)
    op.inputs = inputs
    label_type = Int64TensorType if kind == "multilabel" else _LABEL_TYPES[kind][1]
    label = scope.declare_local_variable("output_label" if zipmap else "label", label_type())
    proba = scope.declare_local_variable("probabilities", guess_tensor_type(inputs[0].type))
    op.outputs.extend([label, proba])
    if zipmap is False:
        if options["output_class_labels"]:
            classes_kind = _label_kind(get_label_classes(scope, model))
            op.outputs.append(scope.declare_local_variable(
                "class_labels", _LABEL_TYPES[classes_kind][1]()))
        return op.outputs
    if zipmap == "columns":
        cols = scope.declare_local_operator(_COLUMNS_ALIAS)
        cols.inputs = [proba]
        for name in get_label_classes(scope, model, node_names=True):
            cols.outputs.append(scope.declare_local_variable(str(name), proba.type.__class__()))
        return [label, *cols.outputs]
    if kind == "uint64":
        raise ValueError(
            "cymlp.onnx: ZipMap's keys are int64 or strings, and these class labels are "
            "beyond int64's range; convert with options={id(model): {'zipmap': False}}")
    if not isinstance(proba.type, FloatTensorType):
        cast = scope.declare_local_operator(_CAST_ALIAS)
        cast.inputs = [proba]
        proba = scope.declare_local_variable("probabilities_float", FloatTensorType())
        cast.outputs = [proba]
    # ZipMap of the probabilities alone (the label is the classifier's own):
    # skl2onnx's keys, int64 for integer, float and bool labels, or strings
    return [label, *_apply_zipmap(True, scope, model, proba.type, [proba])]


def _classifier_shapes(operator):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=[2, 3])
    model = operator.raw_operator
    _check_model(model)
    _check_input_width(operator, model)
    n = operator.inputs[0].get_first_dimension()
    kind = _classifier_label_kind(operator.scope_inst, model)
    proba_type = guess_tensor_type(operator.inputs[0].type).__class__
    n_columns = len(model.classes_)
    if kind == "multilabel":
        operator.outputs[0].set_type(Int64TensorType([n, n_columns]))
    else:
        operator.outputs[0].set_type(_LABEL_TYPES[kind][1]([n]))
    operator.outputs[1].set_type(proba_type([n, n_columns]))
    if len(operator.outputs) == 3:  # output_class_labels
        classes_kind = _label_kind(get_label_classes(operator.scope_inst, model))
        operator.outputs[2].set_type(_LABEL_TYPES[classes_kind][1]([n_columns]))


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    dtype, proto = _graph_dtype(operator.inputs[0].type)
    out = _forward(scope, container, model, operator.inputs[0].full_name, dtype, proto)
    label_name = operator.outputs[0].full_name
    proba_name = operator.outputs[1].full_name
    kind = _classifier_label_kind(scope, model)
    if model.out_activation_ == "logistic":  # binary or multilabel
        half = _add_constant(scope, container, "half", np.array(0.5, dtype=dtype), proto)
    if kind != "multilabel" or len(operator.outputs) == 3:
        labels = get_label_classes(scope, model)  # classes_, or their indices with nocl
        values, onnx_type = _label_tensor(labels, _label_kind(labels))
        classes = _add_constant(scope, container, "classes", values, onnx_type)

    if kind == "multilabel":
        # predict: (proba > 0.5) as int, column by column
        container.add_node("Identity", [out], proba_name,
                           name=scope.get_unique_operator_name("Identity"))
        above = _add_node(scope, container, "Greater", [out, half])
        container.add_node("Cast", [above], label_name, to=_TP.INT64,
                           name=scope.get_unique_operator_name("Cast"))
    else:
        if model.out_activation_ == "softmax":
            # predict: the class of the largest probability (the first one on a tie)
            container.add_node("Identity", [out], proba_name,
                               name=scope.get_unique_operator_name("Identity"))
            index = _add_node(scope, container, "ArgMax", [out], axis=1, keepdims=0)
        else:
            # one logistic unit p: predict_proba is [1 - p, p], predict the
            # positive class when p > 0.5 (LabelBinarizer's threshold)
            one = _add_constant(scope, container, "one", np.array(1.0, dtype=dtype), proto)
            negative = _add_node(scope, container, "Sub", [one, out])
            container.add_node("Concat", [negative, out], proba_name, axis=1,
                               name=scope.get_unique_operator_name("Concat"))
            above = _add_node(scope, container, "Greater", [out, half])
            index = _add_node(scope, container, "Cast", [above], to=_TP.INT64)
            shape = _add_constant(scope, container, "shape", np.array([-1], dtype=np.int64),
                                  _TP.INT64)
            index = _add_node(scope, container, "Reshape", [index, shape])
        container.add_node("Gather", [classes, index], label_name, axis=0,
                           name=scope.get_unique_operator_name("Gather"))
    if len(operator.outputs) == 3:  # output_class_labels
        container.add_node("Identity", [classes], operator.outputs[2].full_name,
                           name=scope.get_unique_operator_name("Identity"))


def _cast_shapes(operator):
    operator.outputs[0].type = FloatTensorType(list(operator.inputs[0].type.shape))


def _convert_cast(scope, operator, container):
    container.add_node("Cast", [operator.inputs[0].full_name], operator.outputs[0].full_name,
                       to=_TP.FLOAT, name=scope.get_unique_operator_name("Cast"))


def _columns_shapes(operator):
    n = operator.inputs[0].get_first_dimension()
    for out in operator.outputs:
        out.type = operator.inputs[0].type.__class__([n])


def _convert_columns(scope, operator, container):
    """zipmap='columns' for float and bool labels: one output per class."""
    axes = _add_constant(scope, container, "axes", np.array([1], dtype=np.int64), _TP.INT64)
    shape = _add_constant(scope, container, "shape", np.array([-1], dtype=np.int64), _TP.INT64)
    for i, out in enumerate(operator.outputs):
        start = _add_constant(scope, container, "start", np.array([i], dtype=np.int64),
                              _TP.INT64)
        end = _add_constant(scope, container, "end", np.array([i + 1], dtype=np.int64),
                            _TP.INT64)
        column = _add_node(scope, container, "Slice",
                           [operator.inputs[0].full_name, start, end, axes])
        container.add_node("Reshape", [column, shape], out.full_name,
                           name=scope.get_unique_operator_name("Reshape"))


# -- regressor ----------------------------------------------------------------

def _regressor_shapes(operator):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    model = operator.raw_operator
    _check_model(model)
    _check_input_width(operator, model)
    n = operator.inputs[0].get_first_dimension()
    out_type = guess_tensor_type(operator.inputs[0].type).__class__
    operator.outputs[0].set_type(out_type([n, model.n_outputs_]))


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    dtype, proto = _graph_dtype(operator.inputs[0].type)
    out = _forward(scope, container, model, operator.inputs[0].full_name, dtype, proto)
    container.add_node("Identity", [out], operator.outputs[0].full_name,
                       name=scope.get_unique_operator_name("Identity"))


# -- registration -------------------------------------------------------------

_CLASSIFIER_ALIAS = "CymlpMLPClassifier"
_REGRESSOR_ALIAS = "CymlpMLPRegressor"
_COLUMNS_ALIAS = "CymlpZipMapColumns"
_CAST_ALIAS = "CymlpCastFloat"


def _register():
    update_registered_converter(
        MLPClassifier, _CLASSIFIER_ALIAS, _classifier_shapes, _convert_classifier,
        parser=_parse_classifier,
        options={"zipmap": [True, False, "columns"],
                 "nocl": [True, False],
                 "output_class_labels": [False, True]})
    update_registered_converter(
        MLPRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor)
    register_converter(_COLUMNS_ALIAS, _convert_columns, overwrite=True)
    register_shape_calculator(_COLUMNS_ALIAS, _columns_shapes, overwrite=True)
    register_converter(_CAST_ALIAS, _convert_cast, overwrite=True)
    register_shape_calculator(_CAST_ALIAS, _cast_shapes, overwrite=True)


_register()
