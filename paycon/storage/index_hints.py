"""Naming the index SQLite must read (``INDEXED BY``); other databases plan alone.

SQLAlchemy's ``with_hint`` renders nothing on SQLite, so a table that carries
the hint is its own small construct: the table itself everywhere, with
``INDEXED BY`` after its name on SQLite.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Alias
from sqlalchemy.sql.visitors import InternalTraversal


class IndexedBy(Alias):
    """A table read through one named index; its columns are the table's own."""

    inherit_cache = True
    # The index is part of the statement, so of its cache key.
    _traverse_internals = [*Alias._traverse_internals, ("index", InternalTraversal.dp_string)]
    index: str


def indexed_by(table: Table, index: str) -> IndexedBy:
    """``table``, which SQLite must read through ``index`` (an index of that table)."""
    hinted = IndexedBy._construct(table, name=table.name)
    hinted.index = index
    return hinted


def _table(element: IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.element, **{**kw, "asfrom": True}))


@compiles(IndexedBy)
def _elsewhere(element: IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    return _table(element, compiler, **kw)


@compiles(IndexedBy, "sqlite")
def _on_sqlite(element: IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{_table(element, compiler, **kw)} INDEXED BY {compiler.preparer.quote(element.index)}"
