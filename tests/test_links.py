"""tools/links.py: Colab and Kaggle links built from the one repository address in pyproject.toml."""

import pathlib
import re
import subprocess
import sys
import tomllib
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import links  # noqa: E402

NOTEBOOK = "notebooks/00_image_classification.ipynb"


def course_notebooks():
    """Every notebook a link may point to: the lectures and the labs' student and solution versions."""
    paths = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")) + sorted(ROOT.glob("labs/*/*/*.ipynb"))
    assert len(paths) >= 16
    return [path.relative_to(ROOT).as_posix() for path in paths]


def linked_path(url):
    """The repository path a Colab or Kaggle link opens, checked against the repository and branch."""
    if url.startswith("https://colab.research.google.com/github/"):
        rest = url.removeprefix("https://colab.research.google.com/github/")
    else:
        prefix = "https://kaggle.com/kernels/welcome?src=https://github.com/"
        assert url.startswith(prefix), url
        rest = url.removeprefix(prefix)
    owner, name, blob, branch, path = rest.split("/", 4)
    assert f"{owner}/{name}" == links.repository()
    assert (blob, branch) == ("blob", "main")
    return urllib.parse.unquote(path)


def test_repository_is_read_from_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as file:
        url = tomllib.load(file)["project"]["urls"]["Repository"]
    assert url == f"https://github.com/{links.repository()}"
    assert links.repository() == "cnn-elements/cnn-elements-course"


def test_repository_of_another_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/someone/fork.git"\n')
    assert links.repository(pyproject) == "someone/fork"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://gitlab.com/someone/fork"\n')
    with pytest.raises(ValueError, match="github.com"):
        links.repository(pyproject)
    pyproject.write_text('[project]\nname = "x"\n')
    with pytest.raises(KeyError, match="Repository"):
        links.repository(pyproject)


def test_colab_and_kaggle_links_have_the_documented_form():
    repo = links.repository()
    assert links.colab_url(NOTEBOOK) == f"https://colab.research.google.com/github/{repo}/blob/main/{NOTEBOOK}"
    assert links.kaggle_url(NOTEBOOK) == (
        f"https://kaggle.com/kernels/welcome?src=https://github.com/{repo}/blob/main/{NOTEBOOK}"
    )
    # An absolute path inside the checkout gives the same link.
    assert links.colab_url(ROOT / NOTEBOOK) == links.colab_url(NOTEBOOK)


@pytest.mark.parametrize("path", course_notebooks())
def test_every_link_opens_an_existing_file(path):
    for url in (links.colab_url(path), links.kaggle_url(path)):
        target = linked_path(url)
        assert target == path
        assert (ROOT / target).is_file()


def test_tracked_files_are_what_links_point_to():
    """A link is only good once the file is on the branch: the notebooks must be tracked by git."""
    tracked = subprocess.run(
        ["git", "ls-files", "notebooks", "labs"], cwd=ROOT, capture_output=True, text=True
    )
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    tracked = set(tracked.stdout.split())
    untracked = [path for path in course_notebooks() if path not in tracked]
    assert not untracked, f"links would point to files not in the repository: {untracked}"


def test_badges_markdown_links_both_services():
    markdown = links.badges_markdown(NOTEBOOK)
    badges = re.findall(r"\[!\[([^\]]+)\]\(([^)]+)\)\]\(([^)]+)\)", markdown)
    assert badges == [
        ("Open In Colab", links.COLAB_BADGE, links.colab_url(NOTEBOOK)),
        ("Open in Kaggle", links.KAGGLE_BADGE, links.kaggle_url(NOTEBOOK)),
    ]
    assert "\n" not in markdown


def test_a_missing_or_outside_file_has_no_link(tmp_path):
    with pytest.raises(FileNotFoundError, match="notebooks/99_missing.ipynb"):
        links.colab_url("notebooks/99_missing.ipynb")
    with pytest.raises(FileNotFoundError):
        links.badges_markdown("notebooks")  # a folder, not a file
    outside = tmp_path / "x.ipynb"
    outside.write_text("{}")
    with pytest.raises(ValueError, match="not inside the repository"):
        links.kaggle_url(outside)
    with pytest.raises(ValueError, match="not inside the repository"):
        links.colab_url("../" + ROOT.name + "/../x.ipynb")


def test_the_address_is_written_once():
    """tools/ builds every link from pyproject.toml: no other copy of the address to drift."""
    for path in ROOT.joinpath("tools").rglob("*"):
        if path.is_file() and path.suffix in {".py", ".html", ".j2", ".js", ".css", ".tpl", ".md"}:
            assert links.repository() not in path.read_text(errors="replace"), path
