"""The lecture's claims (tools/book/claims.md, a copy of the lecture's list) and what the
notebooks measured about each: the `# claim Cnn` cells and the verdicts they printed."""

from __future__ import annotations

import dataclasses
import pathlib
import re

from tools.book import HERE
from tools.book.notebooks import source

CLAIM_IDS = tuple(f"C{number:02d}" for number in range(1, 47))
CLAIM_TAG = re.compile(r"#\s*claim (C\d\d)\b")

# What utils.claims prints, in the order a cell's verdict is looked up. "disagrees" is an honest
# disagreement with the lecture (a paired comparison's finding); "inconclusive" a paired comparison that
# neither confirms nor refutes it at the standard of evidence; "computed" a closed-form fact.
VERDICTS = (
    ("holds", re.compile(r"^Claim (C\d\d) holds: (.+)$", re.M)),
    ("disagrees", re.compile(r"^Claim (C\d\d) does not hold here: (.+)$", re.M)),
    ("inconclusive", re.compile(r"^Claim (C\d\d) is inconclusive at \d+ pairs: (.+)$", re.M)),
    ("computed", re.compile(r"^Claim (C\d\d) computed: (.+)$", re.M)),
    ("failed", re.compile(r"Claim (C\d\d) failed: ([^\n]+)")),
)
HOLDING = ("holds", "asserted", "computed")


@dataclasses.dataclass
class Claim:
    id: str
    slides: str
    statement: str
    measure: str


def load_claims(path: pathlib.Path = HERE / "claims.md") -> list[Claim]:
    """The lecture's claims from the Markdown table `| id | slide | claim | measure |`."""
    claims = []
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if not re.match(r"^\|\s*C\d\d\s*\|", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4:
            raise ValueError(f"{path}: expected 4 columns in {line!r}")
        claims.append(Claim(*cells))
    return claims


@dataclasses.dataclass
class Measurement:
    claim: str
    notebook: str          # the notebook's heading, e.g. "01 · Convolution"
    page: str              # book-relative URL of the measuring cell
    status: str            # holds | disagrees | inconclusive | computed | failed | asserted | not executed
    value: str


def text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(source({"source": output.get("text", "")}))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(parts)


def verdict(cell, claim: str, printed: str) -> tuple[str, str]:
    """(status, value) of `claim` in a code cell, from what the cell printed."""
    for status, pattern in VERDICTS:
        values = {found: value.strip() for found, value in pattern.findall(printed)}
        if claim in values:
            return status, values[claim]
    if cell.get("execution_count") is None:
        return "not executed", ""
    if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
        return "failed", printed.strip().splitlines()[-1] if printed.strip() else "error"
    return "asserted", "checked by an assert (no value printed)"


def claim_measurements(notebook, name: str, page: str) -> list[Measurement]:
    """Every `# claim Cnn` tag in a code cell, with what the committed outputs say about it."""
    found = []
    for cell in notebook.cells:
        tags = list(dict.fromkeys(CLAIM_TAG.findall(source(cell)))) if cell.cell_type == "code" else []
        printed = text_outputs(cell) if tags else ""
        anchor = f"{page}#cell-id={cell.get('id')}" if cell.get("id") else page
        found += [Measurement(claim, name, anchor, *verdict(cell, claim, printed)) for claim in tags]
    return found


def collect(claims: list[Claim], pages) -> dict[str, list[Measurement]]:
    """Each claim's measurements over the rendered pages (claims nobody measured included)."""
    measured: dict[str, list[Measurement]] = {claim.id: [] for claim in claims}
    for page in pages:
        for measurement in page.measurements:
            measured.setdefault(measurement.claim, []).append(measurement)
    return measured


def summary(claims: list[Claim], measured: dict[str, list[Measurement]]) -> dict[str, int]:
    """How many claims are measured, hold everywhere they are measured, disagree somewhere."""
    lists = [measured[claim.id] for claim in claims]
    return {
        "num_measured": sum(1 for found in lists if found),
        "num_holding": sum(1 for found in lists if found and all(m.status in HOLDING for m in found)),
        "num_disagreeing": sum(1 for found in lists if any(m.status == "disagrees" for m in found)),
    }
