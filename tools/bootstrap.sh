#!/usr/bin/env bash
# Installs what PeerMeet needs on a Debian machine: system libraries for Qt and audio (as root,
# only what is missing) and a .venv with the app and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
DEBS="libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libpulse0 libxcb-icccm4 libxcb-keysyms1
      libxcb-shape0 libxcb-xkb1 libxcb-render-util0 libxcb-image0 libfontconfig1 libdbus-1-3
      xvfb xauth pulseaudio pulseaudio-utils fonts-dejavu-core fonts-noto-color-emoji
      iproute2 iptables conntrack coturn dbus-daemon at-spi2-core"
missing=""
for p in $DEBS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "warning: missing Debian packages (run as root or install them):$missing" >&2
  fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.peermeet-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
