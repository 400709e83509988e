"""The look: Fusion plus a QSS built from one of two restrained palettes, picked from the OS scheme.

Graphite and petrol blue with amber for attention, like an instrument cluster; the step rail stays
dark in both schemes so the app keeps one identity.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdv_studio.gui.qt import Qt, QtGui, QtWidgets


@dataclass(frozen=True)
class Palette:
    dark: bool
    window: str
    surface: str
    alt: str
    border: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    accent_text: str
    ok: str
    warn: str
    error: str
    rail: str = "#141a21"
    rail_text: str = "#aab7c4"
    rail_active: str = "#22303c"
    selection: str = "#cfe6ee"


LIGHT = Palette(dark=False, window="#f3f5f8", surface="#ffffff", alt="#f7f9fb", border="#d5dce3",
                text="#1c2630", muted="#5b6b7a", accent="#0b7285", accent_hover="#095c6b",
                accent_text="#ffffff", ok="#23885a", warn="#b7791f", error="#c53030", selection="#cde8ee")
DARK = Palette(dark=True, window="#171c22", surface="#1f262e", alt="#232b34", border="#333e4a",
               text="#e3e9ef", muted="#93a3b3", accent="#2bb3c0", accent_hover="#47c6d2",
               accent_text="#0d1a20", ok="#4cc38a", warn="#e2b340", error="#f07171",
               rail="#10151a", rail_active="#1f2c36", selection="#1d4a55")

_current = LIGHT


def current() -> Palette:
    return _current


def system_is_dark(app: QtWidgets.QApplication) -> bool:
    scheme = app.styleHints().colorScheme()
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    return app.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def apply(app: QtWidgets.QApplication, dark: bool | None = None) -> Palette:
    """Styles ``app``; ``dark=None`` follows the OS and keeps following it when it changes."""
    global _current
    app.setStyle("Fusion")
    follow = dark is None
    _current = DARK if (system_is_dark(app) if follow else dark) else LIGHT
    app.setPalette(_qpalette(_current))
    app.setStyleSheet(stylesheet(_current))
    font = app.font()
    font.setPointSizeF(10)
    app.setFont(font)
    if follow and not app.property("sdvFollowsScheme"):
        app.setProperty("sdvFollowsScheme", True)
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply(app))
    return _current


def _qpalette(p: Palette) -> QtGui.QPalette:
    pal = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    for r, color in ((role.Window, p.window), (role.Base, p.surface), (role.AlternateBase, p.alt),
                     (role.Text, p.text), (role.WindowText, p.text), (role.Button, p.surface),
                     (role.ButtonText, p.text), (role.Highlight, p.accent), (role.HighlightedText, p.accent_text),
                     (role.ToolTipBase, p.surface), (role.ToolTipText, p.text), (role.PlaceholderText, p.muted),
                     (role.Link, p.accent), (role.Mid, p.border)):
        pal.setColor(r, QtGui.QColor(color))
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for r in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(disabled, r, QtGui.QColor(p.muted))
    return pal


def tint(color: str, alpha: float = 0.14) -> str:
    """``color`` (#rrggbb) as a see-through fill, for a chip's background behind text of that colour."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha:g})"


def stylesheet(p: Palette) -> str:
    return f"""
QWidget {{ color: {p.text}; }}
QWidget:disabled {{ color: {p.muted}; }}
QMainWindow, #content {{ background: {p.window}; }}
#rail {{ background: {p.rail}; }}
#railTitle {{ color: #e8f1f4; font-size: 15pt; font-weight: 600; }}
#railSubtitle {{ color: {p.rail_text}; font-size: 9pt; }}
#railVersion {{ color: #6d7c8a; font-size: 8.5pt; }}
QListWidget#steps {{ background: {p.rail}; border: none; outline: none; color: {p.rail_text};
    font-size: 10.5pt; }}
QListWidget#steps > QWidget {{ background: {p.rail}; border: none; }}
#steps::item {{ padding: 9px 12px; margin: 2px 10px; border-radius: 8px; }}
#steps::item:selected {{ background: {p.rail_active}; color: #ffffff; border-left: 3px solid #2bb3c0; }}
#steps::item:disabled {{ color: #4e5b68; }}
#steps::item:hover:!selected {{ background: #1a232c; }}
#pageTitle {{ font-size: 17pt; font-weight: 600; }}
#pageSubtitle {{ color: {p.muted}; font-size: 10pt; }}
#footer {{ background: {p.surface}; border-top: 1px solid {p.border}; }}
#card {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: 10px; }}
#cardTitle {{ font-weight: 600; font-size: 10.5pt; }}
#muted, .muted {{ color: {p.muted}; }}
#fieldError {{ color: {p.error}; font-size: 9pt; }}
#statValue {{ font-size: 14pt; font-weight: 600; }}
#statLabel {{ color: {p.muted}; font-size: 8.5pt; text-transform: uppercase; }}
#pill {{ border-radius: 9px; padding: 1px 9px; font-size: 8.5pt; font-weight: 600; background: {p.alt};
    color: {p.muted}; border: 1px solid {p.border}; }}
#pill[kind="ok"] {{ color: {p.ok}; border-color: {p.ok}; }}
#pill[kind="warn"] {{ color: {p.warn}; border-color: {p.warn}; }}
#pill[kind="error"] {{ color: {p.error}; border-color: {p.error}; }}
#figure {{ font-size: 9pt; }}
#banner {{ border-radius: 8px; padding: 8px 12px; background: {p.alt}; border: 1px solid {p.border}; }}
#banner[kind="error"] {{ border-color: {p.error}; color: {p.error}; }}
#banner[kind="ok"] {{ border-color: {p.ok}; color: {p.ok}; }}
#banner[kind="warn"] {{ border-color: {p.warn}; color: {p.warn}; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QTextEdit {{
    background: {p.surface}; border: 1px solid {p.border}; border-radius: 6px; padding: 5px 8px;
    selection-background-color: {p.accent}; selection-color: {p.accent_text}; }}
QPlainTextEdit, QTextEdit {{ padding: 2px; }}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus {{
    border: 1px solid {p.accent}; }}
QLineEdit[invalid="true"], QComboBox[invalid="true"], QPlainTextEdit[invalid="true"] {{
    border: 1px solid {p.error}; background: {"#2a1d20" if p.dark else "#fff6f6"}; }}
QComboBox::drop-down {{ border: none; width: 22px; }}
QPushButton, QToolButton {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: 6px;
    padding: 6px 14px; }}
QToolButton {{ padding: 5px 9px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {p.accent}; }}
QPushButton:focus, QToolButton:focus {{ border: 2px solid {p.accent}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {p.muted}; background: {p.alt}; }}
QToolButton[autoRaise="true"] {{ background: transparent; border: 1px solid transparent; padding: 4px; }}
QToolButton[autoRaise="true"]:hover {{ border-color: {p.accent}; }}
QToolButton[autoRaise="true"]:focus {{ border: 2px solid {p.accent}; }}
QPushButton[primary="true"] {{ background: {p.accent}; color: {p.accent_text}; border: 1px solid {p.accent};
    font-weight: 600; padding: 6px 20px; }}
QPushButton[primary="true"]:hover {{ background: {p.accent_hover}; }}
QPushButton[primary="true"]:focus {{ border: 2px solid {p.text}; }}
QPushButton[primary="true"]:disabled {{ background: {p.border}; border-color: {p.border}; color: {p.muted}; }}
QProgressBar {{ background: {p.alt}; border: 1px solid {p.border}; border-radius: 5px; height: 10px;
    text-align: center; font-size: 8pt; }}
QProgressBar::chunk {{ background: {p.accent}; border-radius: 4px; }}
QProgressBar[state="error"]::chunk {{ background: {p.error}; }}
QProgressBar[state="success"]::chunk {{ background: {p.ok}; }}
#waveHeader {{ background: {p.alt}; border-top: 1px solid {p.border}; border-bottom: 1px solid {p.border}; }}
#waveTitle {{ font-weight: 600; }}
#waveState {{ border-radius: 9px; padding: 2px 10px; font-size: 9pt; font-weight: 600; }}
#waveState[kind="waiting"], #waveState[kind="muted"] {{ color: {p.muted}; background: {tint(p.muted)}; }}
#waveState[kind="active"] {{ color: {p.accent}; background: {tint(p.accent)}; }}
#waveState[kind="ok"] {{ color: {p.ok}; background: {tint(p.ok)}; }}
#waveState[kind="error"] {{ color: {p.error}; background: {tint(p.error)}; }}
QHeaderView::section {{ background: {p.alt}; color: {p.muted}; border: none;
    border-bottom: 1px solid {p.border}; padding: 6px 8px; font-weight: 600; font-size: 9pt; }}
QTableView, QTreeView, QListView {{ background: {p.surface}; alternate-background-color: {p.alt};
    border: 1px solid {p.border}; border-radius: 8px; gridline-color: {p.border};
    selection-background-color: {p.selection}; selection-color: {p.text}; }}
QTableView::item, QTreeView::item {{ padding: 4px 6px; }}
QGroupBox {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: 10px;
    margin-top: 14px; padding: 16px 12px 10px 12px; font-weight: 600; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; color: {p.muted}; }}
QTabWidget::pane {{ border: 1px solid {p.border}; border-radius: 8px; background: {p.surface}; }}
QTabBar::tab {{ padding: 6px 14px; border: none; color: {p.muted}; }}
QTabBar::tab:selected {{ color: {p.text}; border-bottom: 2px solid {p.accent}; }}
QCheckBox:focus, QRadioButton:focus {{ color: {p.accent}; }}
QSplitter::handle {{ background: transparent; }}
QScrollArea {{ border: none; background: transparent; }}
QToolTip {{ background: {p.surface}; color: {p.text}; border: 1px solid {p.border}; padding: 4px; }}
"""
