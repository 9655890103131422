#!/bin/sh
# Install the unpacked Lightbox bundle: system-wide with root (/opt/lightbox,
# /usr/local/bin, the desktop menu), else for this user (~/.local).
#   ./install.sh            install
#   ./install.sh --uninstall   remove the program; users' settings and study caches stay
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ "$(id -u)" = 0 ]; then
    PREFIX=/opt/lightbox; BIN=/usr/local/bin; SHARE=/usr/local/share
else
    PREFIX="$HOME/.local/opt/lightbox"; BIN="$HOME/.local/bin"; SHARE="$HOME/.local/share"
fi
if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$PREFIX" "$BIN/lightbox" "$SHARE/applications/lightbox.desktop" \
        "$SHARE/icons/hicolor/256x256/apps/lightbox.png" "$SHARE/icons/hicolor/scalable/apps/lightbox.svg"
    echo "Lightbox removed (settings and study caches in the users' folders are kept)."
    exit 0
fi
mkdir -p "$PREFIX" "$BIN" "$SHARE/applications" "$SHARE/icons/hicolor/256x256/apps" "$SHARE/icons/hicolor/scalable/apps"
if [ "$HERE" != "$PREFIX" ]; then rm -rf "$PREFIX"; cp -a "$HERE" "$PREFIX"; fi
ln -sf "$PREFIX/lightbox" "$BIN/lightbox"
cp "$HERE/lightbox.png" "$SHARE/icons/hicolor/256x256/apps/lightbox.png"
cp "$HERE/lightbox.svg" "$SHARE/icons/hicolor/scalable/apps/lightbox.svg"
sed "s|^Exec=.*|Exec=$PREFIX/lightbox %F|" "$HERE/lightbox.desktop" > "$SHARE/applications/lightbox.desktop"
echo "Lightbox installed in $PREFIX; run 'lightbox' or use the desktop menu."
echo "Hospital defaults: copy system-config.example.json to /etc/xdg/Lightbox/config.json and edit it."
