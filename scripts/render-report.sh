#!/usr/bin/env bash
# Render a report written by `llm-auction report` to PNG with headless Chromium, so a person (or a
# reviewer without a browser at hand) can look at it:
#   DIR/png/index.png        the whole page, 1040 px wide
#   DIR/png/index-N.png      the same page in 1300 px high slices (image viewers shrink a tall page
#                            until it cannot be read; a slice stays at full size); the last one
#                            takes the page's last 1300 to 1600 px, so none is a blank strip
#   DIR/png/fig4a.png, ...   one PNG per SVG, at the SVG's own size
# Chromium is optional for the project: without it, tests/report-browser.test.ts (which runs this
# script) skips and says why; .ci/run installs Debian's chromium.
#
#   scripts/render-report.sh DIR        (CHROMIUM=/path/to/chrome to choose the browser)
set -euo pipefail

dir=${1:?usage: scripts/render-report.sh DIR}
width=1040
slice=1300
chrome=${CHROMIUM:-}
if [[ -z "$chrome" ]]; then
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then chrome=$(command -v "$c"); break; fi
  done
fi
if [[ -z "$chrome" ]]; then
  echo "render-report: no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)" >&2
  exit 2
fi
[[ -f "$dir/index.html" ]] || { echo "render-report: $dir/index.html not found (run llm-auction report first)" >&2; exit 2; }

abs=$(cd "$dir" && pwd)
mkdir -p "$abs/png"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --hide-scrollbars --force-device-scale-factor=1 --user-data-dir="$work/profile")

shot() { # shot URL OUT WIDTH HEIGHT
  "$chrome" "${flags[@]}" --screenshot="$2" --window-size="$3,$4" "$1" >/dev/null 2>&1 || true
  [[ -s "$2" ]] || { echo "render-report: Chromium wrote no $2" >&2; exit 1; }
  echo "$2"
}

# Headless Chromium cannot size a screenshot to the page, so measure the page first: a helper page
# loads the report in an iframe and writes its height into its own DOM, which --dump-dom prints.
printf '%s' "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" src=\"file://$abs/index.html\" style=\"width:${width}px;height:800px;border:0\"></iframe><script>document.getElementById('f').onload=function(){var d=this.contentDocument;document.body.setAttribute('data-h',d?d.documentElement.scrollHeight:0);};</script></body></html>" >"$work/measure.html"
height=$("$chrome" "${flags[@]}" --allow-file-access-from-files --virtual-time-budget=3000 --dump-dom "file://$work/measure.html" 2>/dev/null |
  grep -o 'data-h="[0-9]*"' | tr -dc 0-9 || true)
if [[ -z "$height" || "$height" -le 0 ]]; then height=6000; fi
if ((height > 30000)); then height=30000; fi

rm -f "$abs"/png/index-*.png
shot "file://$abs/index.html" "$abs/png/index.png" "$width" "$height"
# A last piece shorter than $min_last px (the page's bottom margin, a few lines) joins the slice before
# it, so no slice is a blank strip.
min_last=300
k=1
for ((off = 0; off < height; off += h)); do
  h=$((height - off))
  if ((h > slice + min_last)); then h=$slice; fi
  printf '<!DOCTYPE html><html><body style="margin:0;overflow:hidden"><img src="file://%s" style="display:block;margin-top:-%dpx"></body></html>' \
    "$abs/png/index.png" "$off" >"$work/slice.html"
  shot "file://$work/slice.html" "$abs/png/index-$k.png" "$width" "$h"
  k=$((k + 1))
done

for svg in "$abs"/*.svg; do
  [[ -e "$svg" ]] || continue
  # The SVGs carry their own width and height; read them so the PNG is exactly the picture.
  w=$(grep -o 'width="[0-9]*"' "$svg" | head -1 | tr -dc 0-9)
  h=$(grep -o 'height="[0-9]*"' "$svg" | head -1 | tr -dc 0-9)
  shot "file://$svg" "$abs/png/$(basename "${svg%.svg}").png" "${w:-720}" "${h:-440}"
done
