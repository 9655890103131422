#!/usr/bin/env bash
# Set up Lightbox on Debian/Ubuntu and run it or its tests.
#
#   bash packaging/setup-debian.sh demo   # install what is missing, start the demo archive and the viewer
#   bash packaging/setup-debian.sh test   # install what is missing; ruff, mypy and the import contracts,
#                                         # then the whole test suite headless with line coverage per package
#   bash packaging/setup-debian.sh setup  # only install
#
# Installs the Debian packages it needs (with sudo when not root) and a Python
# virtual environment in .venv holding Lightbox and its dependencies.  LIGHTBOX_VENV names another
# environment; one holding the editable install of another checkout is refused (nothing is installed).
set -euo pipefail

MODE="${1:-demo}"
shift || true
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${LIGHTBOX_VENV:-$ROOT/.venv}"

APT_PACKAGES=(
  python3 python3-venv python3-dev
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0
  libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxkbcommon-x11-0 libegl1 libgl1 libosmesa6
  libfontconfig1 libdbus-1-3 libglib2.0-0
  orthanc orthanc-dicomweb dcmtk dicom3tools poppler-utils xdotool
  # The audit trail's acceptance test sends to rsyslog as the Audit Record Repository (syslog over TLS).
  rsyslog rsyslog-gnutls
  # The site login's tests bind to OpenLDAP's slapd, started by the test on 127.0.0.1 (no system service).
  slapd ldap-utils
  # Patients' names in every script: Latin, Greek, Cyrillic, Hebrew, Arabic (noto-core), Chinese, Japanese,
  # Korean (noto-cjk); the study list, corner text and PDF reports use them.
  fonts-noto-core fonts-noto-cjk fonts-dejavu-core fontconfig
)

log() { printf '[setup] %s\n' "$*" >&2; }

# The checkout whose editable install the environment holds ("" when none, or no environment yet).
venv_checkout() {
  [ -x "$VENV/bin/python" ] || return 0
  # -I: the checkout's own folder (the current one, maybe with an .egg-info) is not searched
  "$VENV/bin/python" -I - <<'PY' 2>/dev/null || true
import json
from importlib import metadata
from urllib.parse import unquote, urlparse

try:
    info = json.loads(metadata.distribution("lightbox-workstation").read_text("direct_url.json") or "{}")
except (metadata.PackageNotFoundError, ValueError):
    info = {}
url = info.get("url", "") if isinstance(info, dict) else ""
if (info.get("dir_info") or {}).get("editable") and url.startswith("file:"):
    print(unquote(urlparse(url).path))
PY
}

# Refuse an environment that belongs to another checkout: installing this checkout into it (pip install -e)
# would silently point the other checkout's lightbox, tests and tools at this one's code, and running this
# checkout's tests with it would test the other checkout's code.  A checkout that no longer exists owns
# nothing: its environment is taken over.
guard_venv() {
  local owner here
  owner="$(venv_checkout)"
  [ -n "$owner" ] || return 0
  here="$(realpath "$ROOT")"
  if [ ! -d "$owner" ]; then
    log "the environment $VENV belonged to $owner, which no longer exists: installing this checkout into it"
    REINSTALL=1
    return 0
  fi
  if [ "$(realpath "$owner")" != "$here" ]; then
    log "refusing: the environment $VENV holds the Lightbox of another checkout ($owner), not of this one ($here)."
    log "Installing this checkout into it would redirect that checkout's environment to this code."
    log "Unset LIGHTBOX_VENV to use this checkout's own environment ($ROOT/.venv), or point it to an environment"
    log "made for this checkout."
    exit 1
  fi
}

install_apt() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # Services in these packages (Orthanc) must not hold the terminal or fail the install in containers.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

install_python() {
  local stamp="$VENV/.lightbox-installed"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ "${REINSTALL:-0}" = 0 ] && [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the Python environment in $VENV"
    python3 -m venv "$VENV"
  fi
  log "installing Lightbox and its dependencies"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip </dev/null
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test]" </dev/null
  echo "$want" > "$stamp"
}

guard_venv
install_apt
install_python

case "$MODE" in
  setup)
    log "ready: $VENV/bin/lightbox"
    ;;
  demo)
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      log "no display found: starting a virtual one (Xvfb :99); use a desktop session to see the window"
      Xvfb :99 -screen 0 1920x1080x24 -nolisten tcp +extension GLX +render -noreset >/dev/null 2>&1 &
      XVFB_PID=$!
      trap 'kill $XVFB_PID 2>/dev/null || true' EXIT
      export DISPLAY=:99
      sleep 1
    fi
    "$VENV/bin/lightbox" demo "$@"
    ;;
  test)
    export TCP_NODELAY=1
    if [ "$#" -eq 0 ]; then
      # The whole suite: lint, types and layering first; any finding fails before the tests start.
      log "lint: ruff check"
      "$VENV/bin/ruff" check workstation tests bench packaging
      log "types: mypy (strict below workstation/ui/)"
      "$VENV/bin/mypy"
      log "layering: import contracts"
      "$VENV/bin/lint-imports"
      # Then the suite, with line coverage.
      rm -f .coverage .coverage.*
      set -- --cov --cov-report=
      COVERAGE=1
    fi
    # pytest exits 5 when it collected no tests: that must fail, never pass silently.
    set +e
    "$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
      log "pytest collected no tests"
      exit 1
    fi
    if [ "${COVERAGE:-0}" = 1 ] && [ -f .coverage ]; then
      # Subprocesses that ended after pytest combined its data still left theirs.
      "$VENV/bin/coverage" combine --append -q 2>/dev/null || true
      log "line coverage per package"
      "$VENV/bin/python" packaging/coverage_table.py
    fi
    exit "$rc"
    ;;
  *)
    log "usage: $0 demo|test|setup [args]"
    exit 2
    ;;
esac
