"""Python syntax highlighting for the code editor, with colours from the active palette."""

from __future__ import annotations

import keyword
import re

from sdv_studio.gui import theme
from sdv_studio.gui.qt import QtGui

_BUILTINS = r"\b(?:print|len|range|int|str|float|bool|dict|list|set|tuple|super|isinstance|self|None|True|False)\b"


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QtGui.QTextCharFormat:
    fmt = QtGui.QTextCharFormat()
    fmt.setForeground(QtGui.QColor(color))
    if bold:
        fmt.setFontWeight(QtGui.QFont.Weight.DemiBold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QtGui.QSyntaxHighlighter):
    def __init__(self, document: QtGui.QTextDocument) -> None:
        super().__init__(document)
        dark = theme.current().dark
        colors = {"kw": "#c792ea" if dark else "#7a3e9d", "builtin": "#82aaff" if dark else "#1f5fa8",
                  "str": "#c3e88d" if dark else "#2e7d32", "num": "#f78c6c" if dark else "#b5561b",
                  "comment": "#6f7f8f" if dark else "#7b8794", "deco": "#ffcb6b" if dark else "#9a6a00",
                  "def": "#89ddff" if dark else "#0b7285", "vss": "#2bb3c0" if dark else "#0b7285"}
        self._rules: list[tuple[re.Pattern[str], QtGui.QTextCharFormat, int]] = [
            (re.compile(r"\b(?:" + "|".join(keyword.kwlist) + r")\b"), _fmt(colors["kw"], bold=True), 0),
            (re.compile(_BUILTINS), _fmt(colors["builtin"]), 0),
            (re.compile(r"\b(?:def|class)\s+(\w+)"), _fmt(colors["def"], bold=True), 1),
            (re.compile(r"@\w+(?:\.\w+)*"), _fmt(colors["deco"]), 0),
            (re.compile(r"\bVehicle(?:\.\w+)+"), _fmt(colors["vss"], italic=True), 0),
            (re.compile(r"\b\d+(?:\.\d+)?\b"), _fmt(colors["num"]), 0),
            (re.compile(r"[rbfu]{0,2}(\"[^\"\\]*(?:\\.[^\"\\]*)*\"|'[^'\\]*(?:\\.[^'\\]*)*')"), _fmt(colors["str"]), 0),
            (re.compile(r"#[^\n]*"), _fmt(colors["comment"], italic=True), 0),
        ]
        self._triple = _fmt(colors["str"])

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt, group in self._rules:
            for match in pattern.finditer(text):
                start, end = match.span(group)
                self.setFormat(start, end - start, fmt)
        self._triple_quotes(text)

    def _triple_quotes(self, text: str) -> None:
        # State 1: inside a triple-quoted string that started on an earlier line.
        start = 0
        inside = self.previousBlockState() == 1
        self.setCurrentBlockState(0)
        while True:
            if inside:
                end = text.find('"""', start)
                if end < 0:
                    self.setFormat(start, len(text) - start, self._triple)
                    self.setCurrentBlockState(1)
                    return
                self.setFormat(start, end + 3 - start, self._triple)
                start, inside = end + 3, False
            else:
                begin = text.find('"""', start)
                if begin < 0:
                    return
                start, inside = begin + 3, True
                self.setFormat(begin, 3, self._triple)
