"""Flat XML documents (``<Root><Name>text</Name>...</Root>``): built escaped, read defused.

Reading goes through ``defusedxml`` with DTDs, entities and external
references all forbidden, so neither entity expansion ("billion laughs") nor
XXE can happen: such a document is refused before anything is expanded or
fetched. Elements nested deeper than ``MAX_DEPTH`` are refused while reading,
before the tree is deeper than that: code that walks a document (recursively
or not) never meets one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree

# The deepest nesting of elements a document may have (the root is depth 1).
MAX_DEPTH = 64
# Characters XML 1.0 cannot carry at all, escaped or not.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class XmlRejected(ValueError):
    """A document that is not well formed, not the expected shape, or hostile (``forbidden``)."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


def render(root: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """``<root><name>text</name>...</root>`` as UTF-8 with a declaration, text escaped.

    Raises ``ValueError`` if a text holds a character XML cannot carry.
    """
    children = []
    for name, text in fields:
        if _NOT_XML_CHARS.search(text):
            raise ValueError(f"<{name}> holds a character XML cannot carry")
        children.append(f"<{name}>{escape(text)}</{name}>" if text else f"<{name}/>")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{"".join(children)}</{root}>'.encode()


def read_fields(body: bytes, root: str, names: Iterable[str]) -> Mapping[str, str | None]:
    """The text of each child in ``names`` (``None`` when absent, "" when empty), stripped.

    Raises ``XmlRejected`` when the body is not well formed, holds a DTD,
    entity or external reference or nests deeper than ``MAX_DEPTH`` (both
    ``forbidden``), has another root element,
    or repeats a child or puts elements inside one. Unknown children are ignored.
    """
    element = parse(body)
    if element.tag != root:
        raise XmlRejected(f"the root must be <{root}>, not <{_printable(element.tag)}>")
    fields: dict[str, str | None] = {}
    for name in names:
        matches = element.findall(name)
        if len(matches) > 1:
            raise XmlRejected(f"<{name}> must appear once")
        if matches and len(matches[0]):
            raise XmlRejected(f"<{name}> must hold text, not elements")
        fields[name] = (matches[0].text or "").strip() if matches else None
    return fields


def parse(body: bytes, *, max_depth: int = MAX_DEPTH) -> Element:
    """The document's root element, read defused and no deeper than ``max_depth``.

    Raises ``XmlRejected`` when the body is not well formed, holds a DTD,
    entity or external reference (``forbidden``), or nests elements deeper
    than ``max_depth`` (``forbidden``; refused as soon as the parser gets there).
    """
    root: Element | None = None
    depth = 0
    events = defusedxml.ElementTree.iterparse(
        io.BytesIO(body),
        events=("start", "end"),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            depth += 1
            if depth > max_depth:
                raise XmlRejected(
                    f"elements nested deeper than {max_depth} levels are refused", forbidden=True
                )
            if root is None:
                root = element
    except defusedxml.DefusedXmlException as exc:
        raise XmlRejected(
            f"DTDs, entities and external references are refused ({type(exc).__name__})",
            forbidden=True,
        ) from exc
    except ParseError as exc:
        raise XmlRejected(f"not well-formed XML: {exc}") from exc
    if root is None:  # iterparse raises on an empty document; this keeps mypy sure
        raise XmlRejected("not well-formed XML: no element found")
    return root


def _printable(tag: str) -> str:
    return tag if len(tag) <= 64 and tag.isprintable() else tag[:61] + "..."
