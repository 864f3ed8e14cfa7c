"""The book's offline assets: MathJax and reveal.js from the npm packages `make book-assets`
installs, and the course's own style sheets and scripts (tools/book/site/)."""

from __future__ import annotations

import pathlib
import shutil

from tools.book import HERE

OWN_ASSETS = ("course.css", "course-slides.css", "course-slides.js", "search.js")


def install_assets(node_modules: pathlib.Path, out: pathlib.Path) -> None:
    """Copy MathJax 3 (CommonHTML output, its fonts and extensions) and reveal.js 5 (dist and
    the speaker-notes plugin) from the npm packages into the book's assets/ folder."""
    node_modules = pathlib.Path(node_modules)
    mathjax, reveal = node_modules / "mathjax", node_modules / "reveal.js"
    missing = [p for p in (mathjax / "es5" / "tex-chtml-full.js", reveal / "dist" / "reveal.js") if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"MathJax and reveal.js are not installed under {node_modules} (missing {missing[0]}); "
            "run `make book-assets` once (it installs them from the npm registry)")
    assets = out / "assets"
    unused = shutil.ignore_patterns("*svg*", "mml-*", "tex-mml-*", "node-main.js", "*-speech.js", "*.map")
    shutil.copytree(mathjax / "es5", assets / "mathjax", ignore=unused, dirs_exist_ok=True)
    shutil.copy2(mathjax / "LICENSE", assets / "mathjax" / "LICENSE")
    shutil.copytree(reveal / "dist", assets / "reveal.js" / "dist", ignore=shutil.ignore_patterns("*.map", "*.esm.js"),
                    dirs_exist_ok=True)
    shutil.copytree(reveal / "plugin" / "notes", assets / "reveal.js" / "plugin" / "notes",
                    ignore=shutil.ignore_patterns("*.esm.js"), dirs_exist_ok=True)
    shutil.copy2(reveal / "LICENSE", assets / "reveal.js" / "LICENSE")
    for name in OWN_ASSETS:
        shutil.copy2(HERE / "site" / name, assets / name)


def mathjax_head(root: str) -> str:
    """The MathJax 3 configuration (the delimiters Jupyter uses) and the local script."""
    return f"""<script>
window.MathJax = {{
  tex: {{
    inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
    displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams"
  }},
  options: {{ ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process" }}
}};
</script>
<script id="MathJax-script" src="{root}assets/mathjax/tex-chtml-full.js"></script>"""
