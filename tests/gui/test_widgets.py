"""The shared building blocks: shortcuts keep their scope, an empty table cell names where it is."""

from __future__ import annotations

import pytest

from sdv_studio.gui.pages.deploy import DeployPage
from sdv_studio.gui.pages.devices import DevicesPage
from sdv_studio.gui.qt import Qt, QtGui, QtWidgets
from sdv_studio.gui.widgets.common import cell, read_only_table, shortcut


def test_shortcut_keeps_its_scope_and_calls_its_slot(qapp: QtWidgets.QApplication) -> None:
    parent = QtWidgets.QWidget()
    calls: list[str] = []
    made = shortcut(QtGui.QKeySequence("Space"), parent, lambda: calls.append("space"),
                    Qt.ShortcutContext.WidgetShortcut)
    assert made.parent() is parent and made.context() == Qt.ShortcutContext.WidgetShortcut
    made.activated.emit()
    assert calls == ["space"]


def test_table_keys_act_on_the_table_only(window) -> None:  # type: ignore[no-untyped-def]
    # Space ticks a device and Delete cancels a deployment only while their table has focus.
    for table, key in ((window.page_of(DevicesPage).table, Qt.Key.Key_Space),
                       (window.page_of(DeployPage).table, Qt.Key.Key_Delete)):
        [made] = [s for s in table.findChildren(QtGui.QShortcut) if s.key() == QtGui.QKeySequence(key)]
        assert made.context() == Qt.ShortcutContext.WidgetShortcut


def test_an_empty_cell_names_its_table_and_place(qapp: QtWidgets.QApplication) -> None:
    table = read_only_table(("Name", "Status"), "Things", row_height=20, stretch=1)
    table.insertRow(0)
    table.setItem(0, 0, QtWidgets.QTableWidgetItem("lamp"))
    assert cell(table, 0, 0).text() == "lamp"
    with pytest.raises(LookupError, match="Things table: no item at row 0, column 1"):
        cell(table, 0, 1)
