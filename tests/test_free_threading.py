"""Free-threaded CPython: every extension declares itself free-threading
compatible (Cython's freethreading_compatible directive, i.e. the module slot
Py_mod_gil = Py_MOD_GIL_NOT_USED), and the wheel configuration builds cp314t.
No free-threaded interpreter runs here; tests/test_threads.py's stress test
exercises the GIL-free engine from many threads under the GIL build."""

import ast
import ctypes
import importlib
import re
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["_blas", "_activations", "_loss", "_optimizers", "_train", "_bench"]


def _setup_py():
    path = ROOT / "setup.py"
    if not path.is_file():
        pytest.skip("not run from a source tree")
    return ast.parse(path.read_text())


def _assigned(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in setup.py")


def test_every_extension_is_built_with_the_directive():
    tree = _setup_py()
    assert sorted(_assigned(tree, "MODULES")) == sorted(MODULES)
    src = (ROOT / "setup.py").read_text()
    assert '"freethreading_compatible": True' in src
    # the directive goes to every module through cythonize's compiler_directives
    assert "compiler_directives=directives" in src


@pytest.mark.parametrize("name", MODULES)
def test_generated_module_declares_gil_not_used(name):
    c_file = ROOT / "src" / "cymlp" / f"{name}.c"
    pyx = c_file.with_suffix(".pyx")
    if not c_file.is_file() or c_file.stat().st_mtime < pyx.stat().st_mtime:
        pytest.skip(f"no up-to-date generated {c_file.name} (build in place to check it)")
    text = c_file.read_text()
    if "{Py_mod_gil, Py_MOD_GIL_NOT_USED}" in text:
        return
    # Cython >= 3.2: the slot takes a macro, Py_MOD_GIL_NOT_USED by default
    # (with the directive; a build may still override it with
    # -DCYTHON_FREETHREADING_COMPATIBLE=0)
    assert "{Py_mod_gil, __Pyx_FREETHREADING_COMPATIBLE}" in text
    # #ifdef CYTHON_FREETHREADING_COMPATIBLE / #if ... #else ... #endif /
    # #else (the default, unless overridden) / #endif
    m = re.search(r"#ifdef CYTHON_FREETHREADING_COMPATIBLE\n#if CYTHON_FREETHREADING_COMPATIBLE\n"
                  r"(?:#.*\n){3}#endif\n#else\n#define __Pyx_FREETHREADING_COMPATIBLE (\w+)\n",
                  text)
    assert m, "no default for __Pyx_FREETHREADING_COMPATIBLE"
    assert m.group(1) == "Py_MOD_GIL_NOT_USED"


class _PyModuleDef_Slot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("value", ctypes.c_void_p)]


@pytest.mark.skipif(sys.version_info < (3, 13), reason="Py_mod_gil exists from CPython 3.13")
@pytest.mark.parametrize("name", MODULES)
def test_loaded_module_slot_says_gil_not_used(name):
    """On 3.13+, read the slot itself from the loaded module's PyModuleDef."""
    mod = importlib.import_module(f"cymlp.{name}")
    api = ctypes.pythonapi
    api.PyModule_GetDef.restype = ctypes.c_void_p
    api.PyModule_GetDef.argtypes = [ctypes.py_object]
    base = api.PyModule_GetDef(mod)
    assert base
    # PyModuleDef: PyModuleDef_Base (PyObject_HEAD, m_init, m_index, m_copy),
    # then m_name, m_doc, m_size, m_methods, m_slots
    head = sys.getsizeof(object()) if not sysconfig.get_config_var("Py_GIL_DISABLED") else None
    if head is None:
        pytest.skip("free-threaded PyObject_HEAD layout not modelled here")
    ptr = ctypes.sizeof(ctypes.c_void_p)
    slots_at = base + head + 3 * ptr + 4 * ptr
    slots = ctypes.c_void_p.from_address(slots_at).value
    assert slots
    found = {}
    arr = ctypes.cast(slots, ctypes.POINTER(_PyModuleDef_Slot))
    for i in range(32):
        if arr[i].slot == 0:
            break
        found[arr[i].slot] = arr[i].value
    Py_mod_gil, Py_MOD_GIL_NOT_USED = 4, 1
    assert found.get(Py_mod_gil) == Py_MOD_GIL_NOT_USED


def test_cibuildwheel_builds_cp314t_not_cp313t():
    tomllib = pytest.importorskip("tomllib")   # Python 3.11+
    path = ROOT / "pyproject.toml"
    if not path.is_file():
        pytest.skip("not run from a source tree")
    cfg = tomllib.loads(path.read_text())["tool"]["cibuildwheel"]
    from fnmatch import fnmatch

    def selected(ident):
        return fnmatch(ident, cfg["build"]) and not any(fnmatch(ident, s) for s in cfg["skip"])

    assert selected("cp314t-manylinux_x86_64")
    assert selected("cp314t-win_amd64")
    assert selected("cp314t-macosx_arm64")
    assert not selected("cp313t-manylinux_x86_64")
    assert selected("cp314-manylinux_x86_64") and selected("cp310-win_amd64")
