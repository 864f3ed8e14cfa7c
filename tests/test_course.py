"""Course-wide checks: every lecture claim is measured and asserted somewhere, notebooks cannot
reach the network, and every committed notebook is re-executed and compared by nbval.

The template's opening and the executed-in-order checks are in test_notebook_structure.py;
nbval itself (make nbval) is what re-executes every notebook and lab and compares outputs.
"""

import ast
import json
import pathlib
import re
import subprocess
import sys
import textwrap

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.book import claims as book_claims, notebooks as book_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LAB_NOTEBOOKS = sorted(p for p in (ROOT / "labs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CLAIM_CALL = re.compile(r"\bclaims\.(less|greater|at_least|between|close|equal|check|fraction|paired|computed)\(\s*[\"'](C\d\d)[\"']")
IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip"}


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _asserting_statement(statement: ast.stmt) -> bool:
    """An `assert`, or a call of a `claims.` function (possibly inside a loop or if)."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Assert):
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "claims"):
            return True
    return False


def claim_cells():
    """(notebook path, cell index, claim id, cell) for every `# claim Cnn` tag in notebooks/."""
    found = []
    for path in NOTEBOOKS:
        for index, cell in enumerate(_cells(path)):
            if cell["cell_type"] != "code":
                continue
            for claim in dict.fromkeys(book_claims.CLAIM_TAG.findall(book_notebooks.source(cell))):
                found.append((path, index, claim, cell))
    return found


def measured_claims() -> dict:
    """Claim id -> notebooks where a tagged code cell ends in an assertion on it."""
    measured: dict = {}
    for path, index, claim, cell in claim_cells():
        try:
            body = ast.parse(book_notebooks.source(cell)).body
        except SyntaxError:
            continue  # a cell that does not parse is not a measurement; nbval reports it
        called = {match[1] for match in CLAIM_CALL.findall(book_notebooks.source(cell))}
        if body and _asserting_statement(body[-1]) and (claim in called or not called):
            measured.setdefault(claim, []).append(f"{path.name} (cell {index})")
    return measured


# --------------------------------------------------------------------------- claims

def test_every_lecture_claim_is_measured_and_asserted():
    """Fails, listing the ids, until every claim C01-C46 is measured in some notebook."""
    claims = {claim.id: claim for claim in book_claims.load_claims()}
    assert list(claims) == list(book_claims.CLAIM_IDS)
    measured = measured_claims()
    missing = [claim_id for claim_id in book_claims.CLAIM_IDS if claim_id not in measured]
    details = "\n".join(f"  {claim_id}: {claims[claim_id].statement}" for claim_id in missing)
    assert not missing, (
        f"{len(missing)} of {len(book_claims.CLAIM_IDS)} lecture claims are not measured in any notebook: {', '.join(missing)}\n"
        f"(each needs a code cell tagged '# claim Cnn' that ends in a utils.claims call or an assert)\n{details}")


def test_claim_tags_name_real_claims():
    unknown = [f"{path.name} cell {index}: {claim}" for path, index, claim, _ in claim_cells()
               if claim not in book_claims.CLAIM_IDS]
    assert not unknown, f"claim tags that are not C01-C46: {unknown}"


def test_claim_cells_end_in_an_assertion():
    problems = []
    for path, index, claim, cell in claim_cells():
        try:
            body = ast.parse(book_notebooks.source(cell)).body
        except SyntaxError as error:
            problems.append(f"{path.name} cell {index} ({claim}): does not parse ({error.msg})")
            continue
        if not body or not _asserting_statement(body[-1]):
            problems.append(f"{path.name} cell {index} ({claim}): the last statement is not a claims.* call or assert")
        called = {match[1] for match in CLAIM_CALL.findall(book_notebooks.source(cell))}
        if called and claim not in called:
            problems.append(f"{path.name} cell {index}: tagged {claim} but asserts {sorted(called)}")
    assert not problems, "\n".join(problems)


def test_claim_verdicts_are_compared_by_nbval():
    """A claim's printed measurement must be a checked output: nbval then re-runs the cell and
    compares the number, so the value in the book is the value the code produces today."""
    hidden = [f"{path.name} cell {index} ({claim})" for path, index, claim, cell in claim_cells()
              if IGNORE_TAGS & set(cell.get("metadata", {}).get("tags", []))]
    assert not hidden, f"claim cells tagged nbval-ignore-output/nbval-skip (split the timing out): {hidden}"


# --------------------------------------------------------------------------- freshness

def _make_variables(*names):
    expression = " ".join(f"$({name})" for name in names)
    result = subprocess.run(["make", "--no-print-directory", "-s", "-f", "Makefile",
                             "--eval", f"print-course-variables: ; @echo {expression}", "print-course-variables"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_nbval_executes_every_notebook_and_lab():
    """`make nbval` re-executes each committed notebook and compares its checked outputs, so
    they are fresh; here we check that no notebook escapes it (a name outside the Makefile's
    patterns would be committed, rendered in the book, and never run)."""
    executed = _make_variables("NOTEBOOKS", "LAB_NOTEBOOKS")
    notebooks = {str(path.relative_to(ROOT)) for path in NOTEBOOKS}
    assert notebooks - executed == set(), f"notebooks nbval does not run: {sorted(notebooks - executed)}"
    solutions = {str(path.relative_to(ROOT)) for path in LAB_NOTEBOOKS if "solution" in path.parts}
    assert solutions - executed == set(), f"lab solutions nbval does not run: {sorted(solutions - executed)}"


@pytest.mark.parametrize("path", NOTEBOOKS + [p for p in LAB_NOTEBOOKS if "solution" in p.parts],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_outputs_are_mostly_checked(path):
    """nbval compares only untagged cells: at least half of the cells with output must be
    compared, and no cell is skipped outright (a skipped cell never runs, so its output can go
    stale). Training results, float error magnitudes and timings differ between CPUs and go in
    ignored cells (CONTRIBUTING.md), so up to half may be ignored; their claims are still
    asserted in checked cells."""
    cells = [cell for cell in _cells(path) if cell["cell_type"] == "code" and book_notebooks.source(cell).strip()]
    tags = [set(cell.get("metadata", {}).get("tags", [])) for cell in cells]
    skipped = [index for index, cell_tags in enumerate(tags) if "nbval-skip" in cell_tags]
    assert not skipped, f"code cells tagged nbval-skip (never executed by the tests): {skipped}"
    with_output = [cell_tags for cell, cell_tags in zip(cells, tags) if cell.get("outputs")]
    ignored = sum(1 for cell_tags in with_output if IGNORE_TAGS & cell_tags)
    assert ignored <= max(2, len(with_output) // 2), \
        f"{ignored} of {len(with_output)} cells with output are nbval-ignore-output: keep hardware-dependent output in few cells"


# --------------------------------------------------------------------------- offline

PROBE = textwrap.dedent("""
    import socket, time

    def attempt(kind):
        start = time.monotonic()
        try:
            if kind == "tcp":
                sock = socket.create_connection(("192.0.2.1", 80), timeout=4)  # TEST-NET-1, RFC 5737
                sock.close()
            elif kind == "udp":
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 53))
                return "sent"
            elif kind == "dns":
                socket.getaddrinfo("example.com", 443)  # reserved for examples (RFC 2606)
            return "connected"
        except socket.timeout:
            return "timed out"
        except OSError as error:
            return "refused: " + str(error)

    print({kind: attempt(kind) for kind in ("tcp", "udp", "dns")})
    loopback = socket.socket()
    loopback.bind(("127.0.0.1", 0))
    loopback.listen(1)
    client = socket.create_connection(loopback.getsockname(), timeout=4)
    client.close()
    print("loopback ok")
""")


def test_notebook_kernels_cannot_reach_the_network():
    """Starts a kernel exactly as nbval, `make refresh` and `make bench` do (the course's
    environment and its kernel configuration) and tries to leave the machine: a TCP
    connection, a UDP datagram and a DNS lookup must all be refused, loopback must work.
    Either the kernel's network guard (config/ipython_kernel_config.py) or an offline
    sandbox (CI runs `make test` in a network namespace with loopback only) satisfies it."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"))
    try:
        outputs = []
        reply = client.execute_interactive(PROBE, timeout=60, output_hook=lambda message: outputs.append(message))
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", f"probe failed: {errors}"
    results = ast.literal_eval(text.splitlines()[0])
    leaks = {kind: result for kind, result in results.items() if not result.startswith("refused")}
    assert not leaks, (f"a notebook kernel reached for the network and was not refused: {leaks}; "
                       "install the network guard in config/ipython_kernel_config.py (then `make setup`)")
    assert "loopback ok" in text


# --------------------------------------------------------------------------- benchmark report

from tools import bench  # noqa: E402


@pytest.mark.parametrize("metric", bench.METRICS, ids=lambda metric: metric.key)
def test_bench_finds_its_measurement_in_the_notebook(metric):
    """`make bench` reads these numbers from the notebook's printed output: a changed print
    format would silently drop them from the report."""
    path = ROOT / "notebooks" / metric.notebook
    if not path.exists():
        pytest.skip(f"{metric.notebook} is not written yet")
    notebook = nbformat.read(path, as_version=4)
    value = bench.extract(metric, bench.printed_text(notebook))
    assert value is not None and value > 0, f"{metric.notebook} prints no line matching {metric.pattern!r}"


def test_bench_report_has_totals_and_measurements():
    rows = [{"notebook": "00_a.ipynb", "wall_s": "50.0", "cpu_s": "80.5", "peak_mb": "900", "within_budget": "yes"},
            {"notebook": "01_b.ipynb", "wall_s": "30.5", "cpu_s": "40.0", "peak_mb": "1200", "within_budget": "yes"}]
    metrics = [{"name": "ratio", "unit": "x", "note": "n", "notebook": "01_b.ipynb", "value": 1.25, "missing": ""},
               {"name": "speed", "unit": "images/s", "note": "n", "notebook": "00_a.ipynb", "value": None,
                "missing": "not found"}]
    markdown, summary = bench.report(rows, metrics, {"cores": "2", "cpu": "Some CPU"}, ("2.0/1.0/0.5", "3.0/2.0/1.0"))
    assert "| **total (2 notebooks)** | **80.5** | **120.5** | max 1200 | yes |" in markdown
    assert "| ratio | 1.25 x | 01_b.ipynb | n |" in markdown and "| speed | not found |" in markdown
    assert "Machine: cores: 2; cpu: Some CPU." in markdown and "at start 2.0/1.0/0.5" in markdown
    assert ("suite wall time", "80.5", "s", f"budget {bench.SUITE_BUDGET_SECONDS} s for all of make test") in summary


DETECTION_DATA = "detection.load_shapes_detection(num_train=400, num_val=10, num_test=100)"


def printed_metrics(notebook: str, variable: str) -> dict:
    """The COCO metrics a notebook prints with `print({name: round(<variable>[name], 3) ...})`."""
    for cell in _cells(ROOT / "notebooks" / notebook):
        if cell["cell_type"] == "code" and f"round({variable}[name], 3)" in "".join(cell["source"]):
            stdout = "".join("".join(output.get("text", "")) for output in cell["outputs"] if output.get("name") == "stdout")
            return ast.literal_eval(stdout.splitlines()[0])
    raise AssertionError(f"{notebook} prints no {variable}")


def test_detectors_compared_across_notebooks_stand_as_the_prose_says():
    """15 and 16 set their detectors beside notebook 14's R-CNN without training it again: the
    three notebooks load the same data, and the APs they print stand as 15's and 16's prose
    says: R-CNN ahead of SSD on AP, AP50 and AP75; Fast R-CNN a little behind R-CNN on AP and
    AP75, about level on AP50; Faster R-CNN ahead of SSD on AP and AP75, behind it on AP50."""
    for notebook in ("14_rcnn", "15_fast_rcnn", "16_ssd"):
        assert DETECTION_DATA in (ROOT / "notebooks" / f"{notebook}.ipynb").read_text(), notebook
    rcnn = printed_metrics("14_rcnn.ipynb", "rcnn_metrics")
    fast = printed_metrics("15_fast_rcnn.ipynb", "fast_metrics")
    faster = printed_metrics("15_fast_rcnn.ipynb", "faster_metrics")
    ssd = printed_metrics("16_ssd.ipynb", "ssd_metrics")
    for name in ("AP", "AP50", "AP75"):
        assert rcnn[name] > ssd[name], (name, rcnn, ssd)
    level = 0.03  # "about level": AP50 within 3 points
    assert rcnn["AP"] > fast["AP"] and rcnn["AP75"] > fast["AP75"] and abs(rcnn["AP50"] - fast["AP50"]) < level, (rcnn, fast)
    assert faster["AP"] > ssd["AP"] and faster["AP75"] > ssd["AP75"] and faster["AP50"] < ssd["AP50"], (faster, ssd)
    with pytest.raises(AssertionError, match="prints no"):
        printed_metrics("16_ssd.ipynb", "rcnn_metrics")
