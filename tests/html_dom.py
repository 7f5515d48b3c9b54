"""A small DOM for asserting on rendered pages by structure, not by string slicing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None = None):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        """Descendants with ``tag`` whose attributes match (``True``: present;
        ``class_``: one of the classes; dashes written as underscores)."""
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(self._matches(node, name, value) for name, value in attrs.items()):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]

    @staticmethod
    def _matches(node: Node, name: str, value) -> bool:
        if name == "class_":
            return value in (node.attrs.get("class") or "").split()
        name = name.replace("_", "-")
        if value is True:
            return name in node.attrs
        return node.attrs.get(name) == value

    @property
    def text(self) -> str:
        """All the text, whitespace collapsed (what a screen reader reads, roughly)."""
        return self._text(skip_hidden=False)

    @property
    def visible_text(self) -> str:
        """The text without ``visually-hidden`` parts (what a sighted reader sees)."""
        return self._text(skip_hidden=True)

    def _text(self, *, skip_hidden: bool) -> str:
        parts = []

        def skipped(node):
            hidden = "visually-hidden" in (node.attrs.get("class") or "").split()
            return node.tag in ("script", "style") or (skip_hidden and hidden)

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif not skipped(child):
                    walk(child)

        walk(self)
        return re.sub(r"\s+", " ", "".join(parts)).strip()


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str | bytes) -> Node:
    if isinstance(html, bytes):
        html = html.decode()
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
