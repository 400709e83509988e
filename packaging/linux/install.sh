#!/bin/sh
# Installs this unpacked bundle for the current user (or system-wide with PREFIX=/usr/local, as root):
# the program folder, a sdv-studio command on PATH, the menu entry and its icon, and the handler of
# sdv-studio:// links ("Open in SDV Studio" on a web page) when xdg-utils is there.
set -eu
HERE="$(dirname "$(readlink -f "$0")")"
PREFIX="${PREFIX:-$HOME/.local}"
DEST="$PREFIX/lib/sdv-studio"

rm -rf "$DEST"
mkdir -p "$DEST" "$PREFIX/bin" "$PREFIX/share/applications" "$PREFIX/share/icons/hicolor/256x256/apps"
cp -a "$HERE/." "$DEST/"
ln -sf "$DEST/sdv-studio" "$PREFIX/bin/sdv-studio"
sed "s|^Exec=sdv-studio|Exec=$DEST/sdv-studio|" "$HERE/sdv-studio.desktop" > "$PREFIX/share/applications/sdv-studio.desktop"
cp "$HERE/sdv-studio.png" "$PREFIX/share/icons/hicolor/256x256/apps/sdv-studio.png"
if command -v update-desktop-database >/dev/null; then
  update-desktop-database -q "$PREFIX/share/applications" || true
fi
if command -v xdg-mime >/dev/null; then
  xdg-mime default sdv-studio.desktop x-scheme-handler/sdv-studio
else
  echo "xdg-mime not found (xdg-utils): sdv-studio:// links are not registered" >&2
fi
echo "installed in $DEST; run: sdv-studio"
