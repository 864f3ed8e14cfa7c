"""Prose quotes measurements, never retypes them (CONTRIBUTING.md, "Numbers in prose").

A Markdown cell may quote a measured-looking number (a decimal with two or more digits after
the point, a percentage, a number in scientific notation, "17x" or "30 times") only if the
same notebook printed it: some number in the notebook's outputs, rounded to the quoted
precision, equals it. Exempt: code spans and formulas, sentences that cite (an author, a year,
a table, a slide, the deck, a paper), and settings we chose (a number right after "learning
rate", "momentum", "threshold", "=", ... or a version after "Keras", "TensorFlow").
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

MEASURED = re.compile(r"(?<![\w.])(\d+\.\d{2,}|\d+(?:\.\d+)?\s?%|\d+(?:\.\d+)?e-?\d+|\d+(?:\.\d+)?\s?(?:x|times)\b(?!\s*\d))(?![\w.]*\d)")
# A setting we chose (a learning rate, a threshold) or a version number is not a measurement.
SETTING = re.compile(r"(?:momentum|learning rates?|rates?|beta|alpha|epsilon|IoU|threshold|above|try|decay|dropout|"
                     r"Keras|TensorFlow|TF|Python|NumPy|at|order|within|[=<>])\s*(?:[-\d.e]+\s*(?:,|and)\s*)*$", re.I)
CITATION = re.compile(r"et al|\b(19|20)\d\d\b|Table|Fig|[Ss]lide|deck|paper|published|report|ImageNet|keras\.io|"
                      r"torchvision|TF-Slim|devkit|\bln\b|√|sqrt|\bexp\b|\be\^|π", re.I)
CODE = re.compile(r"`[^`]*`|\$[^$]*\$|<!--.*?-->|\]\([^)]*\)", re.S)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")

def output_text(cells):
    parts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                parts.append("".join(output["text"]))
            for key in ("text/plain", "text/html", "text/markdown"):
                if key in output.get("data", {}):
                    parts.append("".join(output["data"][key]))
    return "\n".join(parts)

def printed_values(text):
    values = set()
    for token in NUMBER.findall(text):
        try:
            value = float(token)
        except ValueError:
            continue
        for decimals in range(0, 7):
            values.add(round(value, decimals)); values.add(round(100 * value, decimals))
    return values

def sentences(markdown):
    for paragraph in re.split(r"\n\s*\n", markdown):
        if paragraph.lstrip().startswith("|"):
            for line in paragraph.splitlines():
                yield line
            continue
        for sentence in re.split(r"(?<=[.;:!?])\s+(?=[A-Z(`*-])", " ".join(paragraph.split())):
            yield sentence

def mismatches(path):
    cells = json.loads(pathlib.Path(path).read_text())["cells"]
    printed = printed_values(output_text(cells))
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for sentence in sentences(CODE.sub(" ", "".join(cell["source"]))):
            if CITATION.search(sentence):
                continue
            for match in MEASURED.finditer(sentence):
                token = match.group(1)
                if SETTING.search(sentence[max(0, match.start() - 60):match.start()]):
                    continue
                number = re.sub(r"\s*(%|x|times)$", "", token)
                value = float(number)
                if "e" in number:
                    decimals = None
                else:
                    decimals = len(number.split(".")[1]) if "." in number else 0
                if decimals is None:
                    ok = any(abs(v - value) <= 0.05 * abs(value) for v in printed)
                else:
                    ok = round(value, decimals) in printed
                if not ok:
                    found.append((index, token, sentence[:140]))
    return found



@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_prose_quotes_only_printed_numbers(path):
    found = mismatches(path)
    assert not found, "Markdown quotes numbers that no output of the notebook printed:\n" + "\n".join(
        f"  cell {index}: {token!r} in: {sentence}" for index, token, sentence in found)


def _notebook(tmp_path, markdown, printed):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": markdown},
             {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "print(x)",
              "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}]}]
    path = tmp_path / "planted.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_planted_mismatch_is_caught(tmp_path):
    # The drift the rule is for: the output says 2.3%, the prose still says 3.8%.
    path = _notebook(tmp_path, "The saving is small (3.8%), and the model is 25.4x faster.",
                     "saving: 2.3% of the parameters; speed-up 25.4\n")
    assert [token for _, token, _ in mismatches(path)] == ["3.8%"]


def test_quoted_numbers_that_were_printed_or_are_exempt_pass(tmp_path):
    path = _notebook(tmp_path, "Validation accuracy 0.65 (table above); at learning rate 0.05, as Krizhevsky "
                     "et al. (2012) report 37.5%. `loss = 0.123` is code.", "accuracy 0.6452\n")
    assert mismatches(path) == []
