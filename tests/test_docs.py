"""README.md and docs/: every fenced Python example runs against this checkout, and every relative link resolves.

Examples load from torch.hub as a user would, `torch.hub.load("<owner>/gan-models", ...)`; here that
call is rewritten to load this checkout (`source="local"`), so the examples run offline. Each runs in
a fresh namespace in an empty working folder, so it must be self-contained.
"""
import ast
import re
from pathlib import Path

import pytest

from tests.helpers import REPO

HUB_REPO = "<owner>/gan-models"
PAGES = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Inline links and images, [text](target) and ![alt](target), and HTML src/href attributes.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|(?:src|href)=\"([^\"]+)\"")
EXPORTS_ONNX = ("gan_models.export",)  # examples that export: seconds each (torch.export), so slow


def _fenced(page: Path, language: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block of `language` in `page`, outside other fences."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(2)) for m in FENCE.finditer(text) if m.group(1) == language]


def _examples() -> list:
    """A pytest.param per fenced Python block of every page, named page:line."""
    return [pytest.param(code, id=f"{page.relative_to(REPO)}:{line}",
                         marks=[pytest.mark.slow] if any(name in code for name in EXPORTS_ONNX) else [])
            for page in PAGES for line, code in _fenced(page, "python")]


class _LocalHub(ast.NodeTransformer):
    """torch.hub.load("<owner>/gan-models", name, ...) -> torch.hub.load(REPO, name, ..., source="local")."""

    def __init__(self) -> None:
        self.rewritten = 0

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if ast.unparse(node.func) == "torch.hub.load" and node.args and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value == HUB_REPO:
            node.args[0] = ast.Constant(str(REPO))
            node.keywords.append(ast.keyword(arg="source", value=ast.Constant("local")))
            self.rewritten += 1
        return node


def test_the_pages_have_python_examples():
    # A safeguard for the parametrized test below: a broken fence pattern would silently test nothing.
    assert len(_examples()) >= 5
    assert _fenced(REPO / "README.md", "python")


@pytest.mark.parametrize("code", _examples())
def test_python_example_runs_against_the_checkout(code, tmp_path, monkeypatch):
    tree = ast.parse(code)
    local = _LocalHub()
    tree = ast.fix_missing_locations(local.visit(tree))
    assert HUB_REPO not in ast.unparse(tree), f"only torch.hub.load may name {HUB_REPO}; it is not a GitHub repo here"
    monkeypatch.chdir(tmp_path)
    exec(compile(tree, "<example>", "exec"), {"__name__": "__example__"})


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def _links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    return [a or b for a, b in LINK.findall(text)]


def test_the_link_pattern_finds_links_and_images():
    assert [*_links(REPO / "README.md")].count("docs/design.md#reliability") == 1
    assert any(link.endswith(".png") for link in _links(REPO / "README.md"))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_relative_link_and_image_resolves(page):
    broken = []
    for link in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # http:, https:, mailto: ...: not files of this repository
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no file {target}")
        elif REPO not in target.parents and target != REPO:
            broken.append(f"{link}: outside the repository")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)
