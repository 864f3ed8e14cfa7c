"""Links that open a file of the course in the cloud: Colab, Kaggle, and their badges.

The repository's address is kept in one place, `[project.urls] Repository` in pyproject.toml;
every link is built from it and from a path inside the repository, on the branch `main`.

    colab_url("notebooks/00_image_classification.ipynb")
    -> https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/00_image_classification.ipynb

A path must name a file that exists in this checkout, so a renamed notebook breaks the build
that links to it instead of publishing a dead link.
"""

from __future__ import annotations

import pathlib
import tomllib
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
BRANCH = "main"

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
KAGGLE_BADGE = "https://kaggle.com/static/images/open-in-kaggle.svg"


def repository_url(pyproject: pathlib.Path = PYPROJECT) -> str:
    """The repository's address, `[project.urls] Repository` of pyproject.toml."""
    with open(pyproject, "rb") as file:
        urls = tomllib.load(file).get("project", {}).get("urls", {})
    if "Repository" not in urls:
        raise KeyError(f"{pyproject} has no [project.urls] Repository")
    return urls["Repository"]


def repository(pyproject: pathlib.Path = PYPROJECT) -> str:
    """"owner/repo" of the course on GitHub, read from pyproject.toml."""
    url = repository_url(pyproject)
    parts = urllib.parse.urlsplit(url)
    names = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.scheme != "https" or parts.netloc != "github.com" or len(names) != 2 or not all(names):
        raise ValueError(f"Repository in {pyproject} is not https://github.com/<owner>/<repo>: {url!r}")
    return "/".join(names)


def repository_path(path: str | pathlib.Path, root: pathlib.Path = ROOT) -> str:
    """`path` (relative to the repository, or absolute inside it) as the repository's POSIX path.

    Raises ValueError for a path outside the repository, FileNotFoundError for a missing file.
    """
    path = pathlib.Path(path)
    absolute = (path if path.is_absolute() else root / path).resolve()
    try:
        relative = absolute.relative_to(root.resolve())
    except ValueError:
        raise ValueError(f"{path} is not inside the repository {root}") from None
    if not absolute.is_file():
        raise FileNotFoundError(f"{relative.as_posix()} is not a file of the repository")
    return relative.as_posix()


def blob_path(path: str | pathlib.Path) -> str:
    """"owner/repo/blob/main/<path>", the part of every launch link after the service's prefix."""
    quoted = urllib.parse.quote(repository_path(path))
    return f"{repository()}/blob/{BRANCH}/{quoted}"


def colab_url(path: str | pathlib.Path) -> str:
    """The link that opens `path` (a notebook of the repository) in Google Colab."""
    return f"https://colab.research.google.com/github/{blob_path(path)}"


def kaggle_url(path: str | pathlib.Path) -> str:
    """The link that opens `path` (a notebook of the repository) in a Kaggle notebook."""
    return f"https://kaggle.com/kernels/welcome?src=https://github.com/{blob_path(path)}"


def badges_markdown(path: str | pathlib.Path) -> str:
    """Markdown for the "Open in Colab" and "Open in Kaggle" badges of `path`, on one line."""
    return (
        f"[![Open In Colab]({COLAB_BADGE})]({colab_url(path)}) "
        f"[![Open in Kaggle]({KAGGLE_BADGE})]({kaggle_url(path)})"
    )
