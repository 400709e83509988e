# PyInstaller runtime hook: qasync picks its Qt binding from QT_API when it is first imported, and
# the bundle carries only PySide6.
import os

os.environ.setdefault("QT_API", "pyside6")
