#!/bin/sh
# Installs this unpacked bundle for the current user (or system-wide with PREFIX=/usr/local, as root):
# the program folder, a sdv-studio command on PATH, the menu entry and its icon.
set -eu
HERE="$(dirname "$(readlink -f "$0")")"
PREFIX="${PREFIX:-$HOME/.local}"
DEST="$PREFIX/lib/sdv-studio"

rm -rf "$DEST"
mkdir -p "$DEST" "$PREFIX/bin" "$PREFIX/share/applications" "$PREFIX/share/icons/hicolor/256x256/apps"
cp -a "$HERE/." "$DEST/"
ln -sf "$DEST/sdv-studio" "$PREFIX/bin/sdv-studio"
sed "s|^Exec=.*|Exec=$DEST/sdv-studio|" "$HERE/sdv-studio.desktop" > "$PREFIX/share/applications/sdv-studio.desktop"
cp "$HERE/sdv-studio.png" "$PREFIX/share/icons/hicolor/256x256/apps/sdv-studio.png"
echo "installed in $DEST; run: sdv-studio"
