#!/usr/bin/env bash
# Builds the Linux bundle: dist/sdv-studio-<version>-linux-<arch>.tar.gz (and the unpacked
# dist/sdv-studio/ folder beside it). Everything it installs goes into its own venv under .cache/,
# so the development venv is never touched. PYTHON picks the interpreter (needs a shared libpython).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
VENV=".cache/packaging/venv"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
fi
# Non-editable: PyInstaller must see the installed package, not a path hook into the checkout.
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade ".[packaging]"

# PyInstaller copies the libraries Qt's xcb platform plugin links to from this machine; one that is
# missing here would be missing on users' desktops too, so refuse to build a bundle without X support.
QXCB="$("$VENV/bin/python" -c 'import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / "Qt/plugins/platforms/libqxcb.so")')"
MISSING="$(ldd "$QXCB" | awk '/not found/ {print $1}' | sort -u)"
if [ -n "$MISSING" ]; then
    echo "the xcb platform plugin needs libraries this machine lacks:" $MISSING >&2
    echo "on Debian/Ubuntu: apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0" >&2
    exit 1
fi

"$VENV/bin/python" packaging/make_icons.py build/icons
"$VENV/bin/python" -m PyInstaller --noconfirm --clean \
    --workpath build/pyinstaller --distpath dist packaging/sdv-studio.spec

VERSION="$("$VENV/bin/python" -c 'import sdv_studio; print(sdv_studio.__version__)')"
NAME="sdv-studio-$VERSION-linux-$(uname -m)"
STAGE="build/$NAME"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -a dist/sdv-studio/. "$STAGE/"
# AppImage-style layout: AppRun, a .desktop entry and the icon at the top, so the same folder
# installs by hand (install.sh) or converts with appimagetool.
cp packaging/linux/AppRun packaging/linux/install.sh "$STAGE/"
cp packaging/linux/sdv-studio.desktop "$STAGE/"
cp build/icons/sdv-studio.png "$STAGE/sdv-studio.png"
chmod +x "$STAGE/AppRun" "$STAGE/install.sh"
tar -C build --owner=0 --group=0 -czf "dist/$NAME.tar.gz" "$NAME"
echo "dist/$NAME.tar.gz"
