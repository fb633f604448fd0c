#!/usr/bin/env bash
# The course's two commands (see README):
#   bash course.sh lab     install what is needed, then open the course in JupyterLab
#   bash course.sh test    install what is needed, then run every test (unit tests + every notebook)
# Other verbs: install (set-up only), slides NOTEBOOK (offline reveal.js slides), bench (benchmarks).
# Works on a fresh Debian/Ubuntu machine with Python 3.11; re-running skips what is already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
VENV="${COURSE_VENV:-.venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

APT_PACKAGES=(espeak-ng ffmpeg sox flite festival festvox-us-slt-hts festvox-kallpc16k libsndfile1
  asterisk-core-sounds-en-wav pocketsphinx-testdata sonic-pi-samples sound-theme-freedesktop sound-icons
  fluidsynth fluid-soundfont-gm timgm6mb-soundfont python3-venv)

install_system() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt: installing ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating the virtual environment $VENV ($("$PY" --version))"
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.course-installed"
  local want; want="$(cat requirements.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> pip: installing the pinned packages (first time: a few minutes, about 6 GB with torch)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.txt -e .
    # These declare dependencies that would pull another torch; what they really need is above.
    "$VENV/bin/python" -m pip install -q --no-deps -r requirements-nodeps.txt
    # librosa compiles its numba kernels on first use (~17 s): do it now, not in a lesson.
    "$VENV/bin/python" -c "import librosa, numpy as np; librosa.feature.mfcc(y=np.zeros(16000, 'float32'), sr=16000); librosa.effects.pitch_shift(np.zeros(4000, 'float32'), sr=16000, n_steps=1)" >/dev/null 2>&1 || true
    echo "$want" > "$stamp"
  fi
}

install() { install_system; install_python; }

case "${1:-}" in
  install) install ;;
  lab)
    install
    echo "==> JupyterLab: open the http://127.0.0.1:8888/lab?token=... URL printed below (Ctrl-C stops it)"
    root_flag=(); [ "$(id -u)" -eq 0 ] && root_flag=(--allow-root)
    exec "$VENV/bin/jupyter" lab --notebook-dir=notebooks --ip=127.0.0.1 --port="${PORT:-8888}" "${root_flag[@]}" "${@:2}"
    ;;
  test)
    install
    export MPLBACKEND=Agg
    exec "$VENV/bin/python" -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider "${@:2}"
    ;;
  slides)
    install
    exec bash scripts/slides.sh "${@:2}"
    ;;
  bench)
    install
    for b in benchmarks/*.py; do echo "==> $b"; "$VENV/bin/python" "$b"; done
    ;;
  *)
    echo "usage: bash course.sh lab|test|install|slides NOTEBOOK|bench" >&2
    exit 2
    ;;
esac
