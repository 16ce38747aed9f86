"""Helpers for notebooks that teach: the code beside its equation, without a second copy of the code.

:func:`show_source` prints the source of the package function that implements an equation (its docstring
left out by default), so a notebook reads like the Annotated Transformer while the code lives once, in the
package, where the training uses it.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, Callable

__all__ = ["source_of", "show_source"]


def source_of(obj: Callable[..., Any] | type, docstring: bool = False, start: str | None = None) -> str:
    """The source text of a function, method or class.

    Args:
        obj: what to show.
        docstring: keep the docstring (default: drop it, the notebook's text explains).
        start: show only from the first line containing this text (e.g. the line an equation starts on).
    Returns:
        the dedented source.
    """
    src = textwrap.dedent(inspect.getsource(obj))
    if not docstring:
        tree = ast.parse(src)
        node = tree.body[0]
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            lines = src.splitlines()
            first, last = body[0].lineno - 1, body[0].end_lineno
            src = "\n".join(lines[:first] + lines[last:]) + "\n"
    if start is not None:
        lines = src.splitlines()
        hits = [i for i, line in enumerate(lines) if start in line]
        if not hits:
            raise ValueError(f"{getattr(obj, '__qualname__', obj)}: no line contains {start!r}")
        src = "\n".join(lines[hits[0]:]) + "\n"
    return src


def show_source(obj: Callable[..., Any] | type, docstring: bool = False, start: str | None = None) -> Any:
    """Display :func:`source_of` as a highlighted code block (Markdown) with the function's module and name.

    Returns the IPython Markdown object (displayed as the cell's output when it is the last expression).
    """
    from IPython.display import Markdown

    where = f"{obj.__module__}.{obj.__qualname__}"
    return Markdown(f"`{where}` — the code that runs:\n\n```python\n{source_of(obj, docstring, start)}```")
