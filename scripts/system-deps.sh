#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only when missing: a virtual screen for the
# tablet app's window tests, Chromium for the dashboard's browser tests, poppler for PDF pages,
# fonts with Arabic glyphs, Mesa for Kivy's OpenGL under Xvfb, and the PostgreSQL server.
set -euo pipefail

need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v chromium >/dev/null || need+=(chromium)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core)
dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || need+=(libgl1-mesa-dri libgl1 libegl1)
dpkg -s libmtdev1 >/dev/null 2>&1 || need+=(libmtdev1)
dpkg -s libsdl2-2.0-0 >/dev/null 2>&1 || need+=(libsdl2-2.0-0)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo -n"; else
    echo "error: need root (or sudo) to install: ${need[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
