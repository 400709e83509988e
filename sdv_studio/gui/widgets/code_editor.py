"""A code editor: line numbers in a gutter, Python highlighting, and a marked error line."""

from __future__ import annotations

from sdv_studio.gui import theme
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from sdv_studio.gui.widgets.highlighter import PythonHighlighter


class _Gutter(QtWidgets.QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        self._editor.paint_gutter(event)


class CodeEditor(QtWidgets.QPlainTextEdit):
    filesDropped = Signal(list)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(10)
        self.setFont(font)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(False)
        self.setTabStopDistance(QtGui.QFontMetricsF(font).horizontalAdvance(" ") * 4)
        self._gutter = _Gutter(self)
        self._error_line = 0  # 1-based; 0 = none
        self._error_text = ""
        self.highlighter = PythonHighlighter(self.document())
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._scroll_gutter)
        self._update_margins()

    # -- gutter ---------------------------------------------------------------------------

    def gutter_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 16 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margins(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QtCore.QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QtCore.QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event: QtGui.QPaintEvent) -> None:
        p = theme.current()
        painter = QtGui.QPainter(self._gutter)
        painter.fillRect(event.rect(), QtGui.QColor(p.alt))
        block = self.firstVisibleBlock()
        number = block.blockNumber() + 1
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        current = self.textCursor().blockNumber() + 1
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                if number == self._error_line:
                    painter.fillRect(0, top, self._gutter.width(), bottom - top, QtGui.QColor(p.error))
                    painter.setPen(QtGui.QColor("#ffffff"))
                else:
                    painter.setPen(QtGui.QColor(p.text if number == current else p.muted))
                painter.drawText(0, top, self._gutter.width() - 8, self.fontMetrics().height(),
                                 Qt.AlignmentFlag.AlignRight, str(number))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1

    # -- error marking --------------------------------------------------------------------

    def set_error(self, line: int, column: int = 1, message: str = "") -> None:
        """Marks ``line`` (1-based) as wrong; 0 clears the mark."""
        self._error_line, self._error_text = line, message
        selections: list[QtWidgets.QTextEdit.ExtraSelection] = []
        if line > 0:
            block = self.document().findBlockByNumber(line - 1)
            if block.isValid():
                sel = QtWidgets.QTextEdit.ExtraSelection()
                color = QtGui.QColor(theme.current().error)
                color.setAlpha(40)
                sel.format.setBackground(color)
                sel.format.setProperty(QtGui.QTextFormat.Property.FullWidthSelection, True)
                sel.format.setToolTip(message)
                sel.cursor = QtGui.QTextCursor(block)
                selections.append(sel)
                wave = QtWidgets.QTextEdit.ExtraSelection()
                wave.format.setUnderlineStyle(QtGui.QTextCharFormat.UnderlineStyle.WaveUnderline)
                wave.format.setUnderlineColor(QtGui.QColor(theme.current().error))
                cursor = QtGui.QTextCursor(block)
                skip = max(0, min(column - 1, block.length() - 2))
                cursor.movePosition(QtGui.QTextCursor.MoveOperation.Right, n=skip)
                cursor.movePosition(QtGui.QTextCursor.MoveOperation.EndOfBlock, QtGui.QTextCursor.MoveMode.KeepAnchor)
                wave.cursor = cursor
                selections.append(wave)
        self.setExtraSelections(selections)
        self._gutter.update()

    @property
    def error_line(self) -> int:
        return self._error_line

    # -- files dropped on the editor --------------------------------------------------------

    def canInsertFromMimeData(self, source: QtCore.QMimeData) -> bool:
        return source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:
        local = [u.toLocalFile() for u in source.urls() if u.isLocalFile()]
        if local:
            self.filesDropped.emit(local)
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        # Ctrl+Tab and Esc leave the editor, so Tab can indent and keyboard users aren't trapped.
        if event.key() == Qt.Key.Key_Escape:
            self.focusNextChild()
            return
        if event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.insertPlainText("    ")
            return
        super().keyPressEvent(event)
