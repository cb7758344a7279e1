#!/usr/bin/env bash
# The subset of DejaVu Sans embedded in pst-plot (see LICENSES.md).
#   bash make_font.sh   (run here; needs apt-get and python3 -m venv)
set -euo pipefail
work=$(mktemp -d)
(cd "$work" && apt-get download fonts-dejavu-core=2.37-6 > /dev/null && dpkg-deb -x fonts-dejavu-core_2.37-6_all.deb deb)
python3 -m venv "$work/venv" && "$work/venv/bin/pip" -q install fonttools==4.55.0
"$work/venv/bin/pyftsubset" "$work/deb/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" \
  --unicodes="U+0020-007E,U+00B0,U+00B1,U+00B2,U+00B3,U+00B5,U+00B7,U+00D7,U+2013,U+2014,U+2018,U+2019,U+201C,U+201D,U+2026,U+2070-2079,U+207B,U+2080-2089,U+2212,U+2192,U+2264,U+2265,U+2022,U+25CF,U+00C5,U+00E9,U+00E8,U+00FC,U+00F6,U+00E4" \
  --output-file=DejaVuSans-subset.ttf --layout-features='' --no-hinting --desubroutinize
rm -rf "$work"
