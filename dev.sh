#!/usr/bin/env bash
# SDV Studio's one entry point for a fresh machine.
#   ./dev.sh app        set everything up, then open the desktop app
#   ./dev.sh test [ARGS] set everything up, then lint, type-check and run the whole test suite
# Debian packages are installed with apt-get when missing (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv

APP_DEBS=(python3-venv libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
          libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0
          libxcb-image0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1)
# The device rig (tests/rig): sshd in namespaces, a Docker-API engine, a Debian rootfs builder,
# cron's crontab (a device's boot hook; the daemon is not run), nmap as the scan benchmark's
# reference, Xvfb for screenshots; a headless Chromium (and its WebDriver) as the web page that hands
# code to the window, xdg-utils and desktop-file-utils for the sdv-studio:// link handler.
TEST_DEBS=(openssh-server openssh-client iproute2 podman runc uidmap mmdebstrap cron nmap xvfb procps psmisc
           chromium chromium-driver xdg-utils desktop-file-utils)

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      say "missing Debian packages (install them as root): ${missing[*]}"; return 1; fi
  fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

setup_venv() {
  local py=${PYTHON:-}
  if [ -z "$py" ]; then for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null && python_ok "$c"; then py=$c; break; fi; done; fi
  [ -n "$py" ] || { say "Python 3.11 or newer is needed"; exit 2; }
  if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
    say "creating $VENV with $py"
    "$py" -m venv "$VENV"
  fi
  # Reinstall only when the dependency list or the package layout (setup.py) changed.
  local stamp=$VENV/.sdv-studio-installed want
  want=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing SDV Studio and its Python dependencies"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    echo "$want" >"$stamp"
  fi
}

# sdv-studio:// links ("Open in SDV Studio" on a web page) open this checkout's app, as the installers
# register the installed one; skipped without xdg-utils (or off Linux).
register_link_handler() {
  command -v xdg-mime >/dev/null || return 0
  local apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
  mkdir -p "$apps"
  sed "s|^Exec=sdv-studio|Exec=$VENV/bin/sdv-studio|; s|^Name=SDV Studio|Name=SDV Studio (development)|" \
    packaging/linux/sdv-studio.desktop >"$apps/sdv-studio-dev.desktop"
  xdg-mime default sdv-studio-dev.desktop x-scheme-handler/sdv-studio || say "sdv-studio:// links not registered"
}

cmd=${1:-app}; shift || true
case "$cmd" in
  app)
    apt_install "${APP_DEBS[@]}" || say "continuing; the window may not open without those libraries"
    setup_venv
    register_link_handler
    exec "$VENV/bin/sdv-studio" "$@"
    ;;
  test)
    apt_install "${APP_DEBS[@]}" "${TEST_DEBS[@]}" || { [ "${CI:-}" = true ] && exit 1; say "rig tests will be skipped"; }
    setup_venv
    export PATH=$VENV/bin:$PATH QT_QPA_PLATFORM=offscreen
    say "ruff"; ruff check .
    say "import contracts"; lint-imports
    say "mypy"; mypy
    # The agent runs on devices' Python 3.8, older than mypy can target: checked again as its oldest.
    say "mypy: the agent as Python 3.10"; mypy --python-version 3.10 -p sdv_studio.agent
    say "pytest"
    exec pytest "$@"
    ;;
  *) echo "usage: ./dev.sh app | test [pytest args]" >&2; exit 2 ;;
esac
