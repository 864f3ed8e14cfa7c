"""Immediate, specific feedback for the labs. A lab notebook creates one `Lab` in its Setup cell,
runs a check after each exercise and `lab.summary()` at the end:

    lab = labcheck.Lab("Convolution as im2col", checks=["padding", "im2col", "conv2d"])
    checks = labcheck.load_checks("01_conv2d_im2col")   # labs/01_conv2d_im2col/checks.py
    lab.check("im2col", checks.check_im2col, im2col)

A check prints `PASSED im2col: ...`, or the failing case, expected against got and a hint; it
never raises, so "Run all" reaches the summary. The checkers in `labs/NN_topic/checks.py` compare
the student's code with TensorFlow, Keras or pycocotools through the functions below, which turn
every way it can go wrong (not written, returns None, raises, wrong shape or values) into a
`CheckFailed`."""

from __future__ import annotations

import contextlib
import importlib.util
import linecache
import pathlib
import sys

import numpy as np

from utils import validation

_COURSE_UTILS = pathlib.Path(__file__).resolve().parent
# The labs' checkers: labs/ of the repository, or utils/labs/ inside the course's wheel (Colab).
LABS_DIR = next(folder for folder in (_COURSE_UTILS.parent / "labs", _COURSE_UTILS / "labs") if folder.is_dir())

NOT_FILLED = "not filled in yet"
FILL_HINT = ("write your code between `# YOUR CODE HERE` and `# END OF YOUR CODE`, run "
             "that cell, then run this check again.")
LOOKS_LIKE = "this looks like a known mistake:"


class CheckFailed(ValueError):
    """A check that did not pass: `message` says what is wrong, `hint` what to look at."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class WrongType(CheckFailed, TypeError):
    """The answer is of the wrong kind (complex, text, True/False, integers)."""


def load_checks(lab_name: str):
    """Import and return `labs/<lab_name>/checks.py`, e.g. lab_name="01_conv2d_im2col"."""
    labs = sorted(p.name for p in LABS_DIR.iterdir() if (p / "checks.py").is_file())
    lab_name = validation.as_choice("lab_name", lab_name, labs)
    module_name = f"labchecks_{lab_name}"
    spec = importlib.util.spec_from_file_location(module_name, LABS_DIR / lab_name / "checks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class Lab:
    """The checks of one lab (names in the order the lab runs them; `bonus` ones are not required)."""

    def __init__(self, title: str, checks, bonus=()):
        if not isinstance(title, str) or not title:
            raise TypeError(f"title must be a non-empty string, got {title!r}")
        checks = list(checks)
        if not checks or not all(isinstance(name, str) and name for name in checks):
            raise TypeError(f"checks must be a non-empty list of names, got {checks!r}")
        if len(set(checks)) != len(checks):
            raise ValueError(f"checks must have distinct names, got {checks!r}")
        unknown = [name for name in bonus if name not in checks]
        if unknown:
            raise ValueError(f"bonus names {unknown} are not in checks {checks}")
        self.title = title
        self.names = checks
        self.bonus = set(bonus)
        self.results: dict[str, tuple[bool, str]] = {}

    def check(self, name: str, checker, *args, **kwargs) -> None:
        """Run `checker(*args, **kwargs)` (see `_run`); print and record the result; never raise."""
        name = validation.as_choice("name", name, self.names)
        passed, message = _run(checker, *args, **kwargs)
        self.results[name] = (passed, message)
        print(f"{'PASSED' if passed else 'FAILED'} {name}: {message}")

    def passed(self, name: str) -> bool:
        """Whether check `name` has run and passed."""
        name = validation.as_choice("name", name, self.names)
        return self.results.get(name, (False, ""))[0]

    def summary(self) -> None:
        """Print every check: passed, failed or not run."""
        required = [name for name in self.names if name not in self.bonus]
        passed_required = sum(self.passed(name) for name in required)
        print(f"{self.title}: {passed_required} of {len(required)} checks passed")
        for name in self.names:
            status = "not run" if name not in self.results else "passed" if self.passed(name) else "FAILED"
            print(f"  {status:7s} {name}{' (bonus)' if name in self.bonus else ''}")
        print("All required checks pass. Well done." if passed_required == len(required)
              else "Fix the failed checks, re-run their cells, then run this summary again.")


def _run(checker, *args, **kwargs) -> tuple[bool, str]:
    """(passed, message) of `checker(*args, **kwargs)`; whatever it raises is a failure, not raised."""
    try:
        detail = checker(*args, **kwargs)
    except CheckFailed as failure:
        return False, failure.message + (f"\n  Hint: {failure.hint}" if failure.hint else "")
    except Exception as error:  # a bug in code the check calls, or an answer that crashed it
        return False, f"the check stopped with {type(error).__name__}: {error}"
    return True, str(detail) if detail else "all cases match"


# ---------------------------------------------------------------- building blocks of checkers
_variant: int | None = None


def case_rng(seed: int) -> np.random.Generator:
    """The generator a checker draws its cases from: `seed`, or another in `grade(..., variant=k)`."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed) if _variant is None else [int(seed), 1_000_003 + _variant])


def grade(checker, *args, variant: int | None = None, **cases) -> bool:
    """Run `checker(*args)` for grading: True when it passes, else print its message and return
    False. variant: draw the random cases from another seed (an int >= 0). cases: replace
    constants of the checker's `checks.py` (e.g. SHAPES=[...]) for this run, as the
    autograder's hidden tests do; each name must exist there.
    """
    global _variant
    if not callable(checker):
        raise TypeError(f"checker must be a check_... function, got {type(checker).__name__}")
    if variant is not None and (not isinstance(variant, int) or isinstance(variant, bool) or variant < 0):
        raise TypeError(f"variant must be a non-negative integer or None, got {variant!r}")
    namespace = checker.__globals__
    unknown = [name for name in cases if name not in namespace]
    if unknown:
        raise ValueError(f"cases {unknown} are not constants of {checker.__module__} "
                         f"(known: {sorted(n for n in namespace if n.isupper())})")
    saved = {name: namespace[name] for name in cases}
    previous, _variant = _variant, variant
    namespace.update(cases)
    try:
        passed, message = _run(checker, *args)
    finally:
        namespace.update(saved)
        _variant = previous
    if not passed:
        print(f"FAILED: {message}")
    return passed


def is_unfilled(value) -> bool:
    """True for the placeholders a student version starts with: `...` and None."""
    return value is None or value is Ellipsis


def require_value(name: str, value):
    """Fail with the "not filled in yet" message when `value` is still a placeholder."""
    if is_unfilled(value):
        raise CheckFailed(f"`{name}` is {NOT_FILLED} (it is {value!r}).", FILL_HINT)
    return value


def require_callable(name: str, function):
    require_value(name, function)
    if not callable(function):
        raise CheckFailed(f"`{name}` should be a function, got {type(function).__name__}.")
    return function


def call(name: str, function, *args, case: str = "", numpy_only: bool = False,
         no_course_utils: bool = False, **kwargs):
    """Call the student's `function` and return the result; a placeholder result or an
    exception becomes a CheckFailed naming the case.

    numpy_only=True: the exercise is to be written with NumPy, so the call fails if it reaches
    a library of `_LIBRARIES` or the course's own `utils` (any entry point: the calls are
    watched). no_course_utils=True: only the course's `utils` is out of bounds (Keras exercises).
    """
    require_callable(name, function)
    if not isinstance(numpy_only, bool) or not isinstance(no_course_utils, bool):
        raise TypeError("numpy_only and no_course_utils must be True or False")
    where = f" on {case}" if case else ""
    watch = _ShortcutWatch(course_utils_only=not numpy_only) if (numpy_only or no_course_utils) else None
    if watch is not None:
        watch.scan(function)
        watch.fail_if_found(name, where)
    error = None
    try:
        with watch or contextlib.nullcontext():
            result = function(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as raised:
        error = raised
    if watch is not None:  # a library call is the failure, also when it made the code raise
        watch.fail_if_found(name, where)
    if error is not None:
        raise CheckFailed(f"`{name}` raised {type(error).__name__}{where}: {error}",
                          "run the failing case yourself with the arguments above and "
                          "read the traceback.")
    if is_unfilled(result):
        raise CheckFailed(f"`{name}` is {NOT_FILLED}: it returned {result!r}{where}.", FILL_HINT)
    return result


# Libraries whose versions of an operation the NumPy exercises are compared with.
_LIBRARIES = {"tensorflow": "TensorFlow", "keras": "Keras", "tf_keras": "Keras", "jax": "JAX",
              "torch": "PyTorch", "torchvision": "torchvision", "scipy": "SciPy",
              "skimage": "scikit-image", "cv2": "OpenCV", "pycocotools": "pycocotools",
              "sklearn": "scikit-learn"}
_ALLOWED_UTILS = {str(_COURSE_UTILS / "labcheck.py")}
_UTILS_LABEL = "the course's `utils` package"


def _code_names(code) -> set:
    """The global and attribute names a code object (and the code nested in it) uses."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if hasattr(constant, "co_names"):
            names |= _code_names(constant)
    return names


class _ShortcutWatch:
    """Within a `with` block, records the first call (Python or C, via sys.setprofile) into a
    library of `_LIBRARIES` or the course's `utils`, whatever the entry point or alias."""

    def __init__(self, course_utils_only: bool):
        self.found: str | None = None
        self.caller = self.line = ""
        self.course_utils_only = course_utils_only
        libraries = {} if course_utils_only else _LIBRARIES
        self.modules = {"utils": _UTILS_LABEL} | libraries
        self.roots = {str(_COURSE_UTILS) + "/": _UTILS_LABEL}
        for package, label in libraries.items():
            location = getattr(sys.modules.get(package), "__file__", None)
            if location:
                self.roots[str(pathlib.Path(location).resolve().parent) + "/"] = label
        self.seen: dict = {}

    def _label_of_file(self, filename: str):
        if filename not in self.seen:
            label = next((label for root, label in self.roots.items() if filename.startswith(root)), None)
            self.seen[filename] = None if filename in _ALLOWED_UTILS else label
        return self.seen[filename]

    def _profile(self, frame, event, arg):
        if self.found:
            return
        if event == "call":
            label = self._label_of_file(frame.f_code.co_filename)
            if label:
                self._record(label, frame.f_back)
        elif event == "c_call":
            label = self.modules.get((getattr(arg, "__module__", None) or "").split(".")[0])
            if label:
                self._record(label, frame)

    def _record(self, label, caller):
        self.found = label
        if caller is not None:
            self.caller = caller.f_code.co_name
            self.line = linecache.getline(caller.f_code.co_filename, caller.f_lineno).strip()[:80]

    def scan(self, function) -> None:
        """Before running: a forbidden object `function` refers to, recursively through the student's code,
        counts as a call (the profiler misses compiled non-builtins, e.g. pycocotools' Cython)."""
        seen = set()
        home = {"__main__", getattr(function, "__module__", None)}

        def visit(value, depth):
            if self.found or depth > 6 or id(value) in seen:
                return
            seen.add(id(value))
            module = value.__name__ if isinstance(value, type(sys)) else getattr(value, "__module__", None)
            if not isinstance(module, str):
                module = ""
            label = self.modules.get(module.split(".")[0])
            if label:
                self.found, self.caller = label, getattr(function, "__name__", "")
                return
            if depth and module not in home:  # only the student's own code is read further
                return
            if isinstance(value, type):  # a class of the student's: its bases and methods
                for member in [*value.__bases__, *vars(value).values()]:
                    visit(getattr(member, "__func__", member), depth + 1)
                return
            code = getattr(value, "__code__", None)
            if code is None or isinstance(value, type(sys)):
                return
            namespace = getattr(value, "__globals__", {})
            for name in _code_names(code):
                if name in namespace:
                    visit(namespace[name], depth + 1)
            for cell in getattr(value, "__closure__", None) or ():
                with contextlib.suppress(ValueError):  # an empty cell
                    visit(cell.cell_contents, depth + 1)

        visit(function, 0)

    def __enter__(self):
        self.previous = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self.previous)

    def fail_if_found(self, name: str, where: str) -> None:
        if not self.found:
            return
        inside = f" in `{self.caller}`" if self.caller and not self.caller.startswith("<") else ""
        if self.line:
            inside += f" (at `{self.line}`)"
        raise CheckFailed(
            f"`{name}` called {self.found}{inside}{where}: this exercise asks you to write the "
            f"operation yourself, and that library's version is what the check compares with.",
            "build it from the framework's basic layers and ops yourself; the course's utils "
            "are a reference, not a building block here." if self.course_utils_only else
            "use NumPy only (np.pad, slicing, reshape, matmul, ...); the course's utils and "
            "the frameworks are the references, not building blocks here.")


def to_numpy(what: str, value, case: str = "") -> np.ndarray:
    """A real numeric (or boolean) NumPy array from a NumPy/TensorFlow/Keras value, or a CheckFailed."""
    where = f" ({case})" if case else ""
    if is_unfilled(value):
        raise CheckFailed(f"{what} is {NOT_FILLED}{where}: got {value!r}.", FILL_HINT)
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except Exception as error:
        raise CheckFailed(f"{what}{where} could not be read as an array: {error}") from None
    if array.dtype == object:
        raise CheckFailed(f"{what}{where} should be a numeric array, got {type(value).__name__} holding objects.")
    if array.dtype.kind == "c":
        raise WrongType(f"{what}{where} should hold real numbers, got complex values (dtype {array.dtype}).")
    if array.dtype.kind not in "biuf":
        raise WrongType(f"{what}{where} should hold numbers, got {type(value).__name__} {value!r}"[:200] + ".")
    return array


def _check_kind(what: str, got: np.ndarray, expected: np.ndarray, where: str, hint) -> None:
    """Fail unless `got` is of `expected`'s kind: flags, integers (or empty), numbers but not True/False."""
    if expected.dtype == bool:
        if got.dtype != bool and np.any((got != 0) & (got != 1)):
            raise WrongType(f"{what}{where} should hold True/False flags, got the values "
                            f"{np.unique(got).tolist()[:5]}.", hint)
    elif got.dtype == bool:
        raise WrongType(f"{what}{where} should hold numbers (dtype {expected.dtype}), got a boolean "
                        f"array; a mask needs .astype(float).", hint)
    elif expected.dtype.kind in "iu" and got.dtype.kind == "f" and got.size:
        raise WrongType(f"{what}{where} should hold integers (dtype {expected.dtype}), got dtype "
                        f"{got.dtype}.", hint)


def compare(what: str, got, expected, *, case: str = "", atol: float = 1e-5,
            rtol: float = 1e-4, hint: str | None = None, mistakes=None) -> None:
    """Fail unless `got` has the shape of `expected` and close values. The message names the
    case, the shapes, the number of wrong entries and the worst one (index, expected, got).
    mistakes: {description: what that known mistake gives (an array, or a function of no
    argument computing one)}: when `got` matches one, the hint names it.
    """
    expected = np.asarray(expected)
    got = to_numpy(what, got, case)
    where = f" for {case}" if case else ""
    if got.shape != expected.shape:
        raise CheckFailed(f"{what} has the wrong shape{where}: expected {expected.shape}, got {got.shape}.", hint)
    _check_kind(what, got, expected, where, hint)
    if expected.dtype == bool:
        got_values, expected_values = got.astype(bool), expected.astype(bool)
        wrong = got_values != expected_values
    else:
        got_values, expected_values = got.astype(np.float64), expected.astype(np.float64)
        if not np.all(np.isfinite(got_values)):
            bad = np.argwhere(~np.isfinite(got_values))[0]
            raise CheckFailed(f"{what}{where} contains NaN or inf (first at index {tuple(int(i) for i in bad)}).",
                              hint)
        wrong = ~np.isclose(got_values, expected_values, atol=atol, rtol=rtol)
    if wrong.any():
        hint = _name_the_mistake(got_values, mistakes, atol, rtol) or hint
        error = np.where(wrong, np.abs(got_values.astype(np.float64) - expected_values.astype(np.float64)), -1.0)
        worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
        raise CheckFailed(
            f"{what} has wrong values{where}: {int(wrong.sum())} of {wrong.size} entries differ; the worst at "
            f"index {tuple(int(i) for i in worst)}: expected {_short(expected_values[worst])}, "
            f"got {_short(got_values[worst])}.", hint)


def compare_sequence(what: str, got, expected, *, case: str = "", hint: str | None = None, mistakes=None):
    """Fail unless the integer sequence `got` equals `expected` (order matters); mistakes as for `compare`."""
    got = to_numpy(what, got, case)
    where = f" for {case}" if case else ""
    if got.ndim != 1:
        raise CheckFailed(f"{what}{where} should be a 1-D sequence, got shape {got.shape}.", hint)
    _check_kind(what, got, np.zeros(0, np.int64), where, hint)
    got_list = [int(v) for v in got]
    expected_list = [int(v) for v in expected]
    if got_list != expected_list:
        hint = _name_the_mistake(np.asarray(got_list, np.float64), mistakes, 0, 0) or hint
        if len(got_list) != len(expected_list):
            detail = f"expected {len(expected_list)} entries, got {len(got_list)}"
        else:
            first = next(i for i, (a, b) in enumerate(zip(got_list, expected_list)) if a != b)
            detail = (f"first difference at position {first}: expected {expected_list[first]}, "
                      f"got {got_list[first]}")
        raise CheckFailed(f"{what} is wrong{where}: {detail}.", hint)


def compare_number(what: str, got, expected, *, case: str = "", atol: float = 1e-6,
                   rtol: float = 1e-4, hint: str | None = None, mistakes=None) -> float:
    """Fail unless the scalar `got` is close to `expected`, and return it; mistakes as for `compare`."""
    where = f" for {case}" if case else ""
    array = to_numpy(what, got, case)
    if array.size != 1:
        raise CheckFailed(f"{what}{where} should be one number, got shape {array.shape}.", hint)
    _check_kind(what, array, np.zeros(0), where, hint)
    value = float(array.reshape(()))
    if not np.isclose(value, float(expected), atol=atol, rtol=rtol):
        hint = _name_the_mistake(np.float64(value), mistakes, atol, rtol) or hint
        raise CheckFailed(f"{what} is wrong{where}: expected {_short(float(expected))}, got {_short(value)}.", hint)
    return value


def _name_the_mistake(got_values, mistakes, atol, rtol) -> str | None:
    """The description of the first known mistake whose result `got_values` matches."""
    if mistakes is not None and not isinstance(mistakes, dict):
        raise TypeError(f"mistakes must be a dict {{description: value}}, got {type(mistakes).__name__}")
    for description, value in (mistakes or {}).items():
        try:
            value = np.asarray(value() if callable(value) else value, dtype=np.float64)
        except Exception:  # a mistake that cannot be computed for this case does not match
            continue
        if value.shape == np.shape(got_values) and np.allclose(got_values, value, atol=atol, rtol=rtol):
            return f"{LOOKS_LIKE} {description}"
    return None


def _short(value) -> str:
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.6g}"
