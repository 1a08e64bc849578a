#!/usr/bin/env bash
# Prepares this machine for Procure (Debian 12): system packages, .venv, compiled translations.
# Idempotent and quick when nothing changed. Extra apt package names may be given as arguments.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(python3.11 python3.11-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
          fonts-noto-cjk poppler-utils chromium "$@")
missing=()
for pkg in "${packages[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) == *"ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: installing ${missing[*]} needs root or sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: apt-get install ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[[ -x .venv/bin/python ]] || { echo "setup: creating .venv"; python3.11 -m venv .venv; }

stamp=.venv/requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
  echo "setup: pip install -r requirements.txt"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" >"$stamp"
fi

.venv/bin/pybabel -q compile -d translations
