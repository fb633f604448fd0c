#!/usr/bin/env bash
# Turn notebooks into reveal.js slide decks that open with no network:
#   bash course.sh slides notebooks/01_intro_to_audio.ipynb   ->  notebooks/01_intro_to_audio.slides.html
# The JavaScript that nbconvert would fetch from CDNs (reveal.js, require.js, jQuery, MathJax) is
# installed once from the npm registry into cache/slides-assets and linked by relative path.
# Present: open the .html file in a browser; press S for speaker notes, F for full screen, ? for help.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${COURSE_VENV:-.venv}"
ASSETS=cache/slides-assets
if [ ! -d "$ASSETS/node_modules/reveal.js" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    local_sudo=""; [ "$(id -u)" -ne 0 ] && local_sudo="sudo"
    echo "==> apt: installing npm (needed once to fetch reveal.js)"
    $local_sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $local_sudo apt-get install -y -qq npm >/dev/null
  fi
  mkdir -p "$ASSETS"
  echo "==> npm: reveal.js, require.js, jQuery, MathJax 2 into $ASSETS (once, ~80 MB)"
  (cd "$ASSETS" && npm install --no-audit --no-fund --silent --prefix . \
      reveal.js@4.6.1 requirejs@2.3.7 jquery@2.2.4 mathjax@2.7.9 >/dev/null)
fi
[ $# -gt 0 ] || set -- notebooks/*.ipynb
for nb in "$@"; do
  dir=$(cd "$(dirname "$nb")" && pwd)
  rel=$(realpath --relative-to="$dir" "$ASSETS/node_modules")
  "$VENV/bin/jupyter" nbconvert --to slides "$nb" \
    --SlidesExporter.reveal_url_prefix="$rel/reveal.js" \
    --HTMLExporter.require_js_url="$rel/requirejs/require.js" \
    --HTMLExporter.jquery_url="$rel/jquery/dist/jquery.min.js" \
    --HTMLExporter.mathjax_url="$rel/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
done
