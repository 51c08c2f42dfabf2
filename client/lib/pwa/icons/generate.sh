#!/bin/sh
# Renders Ferry's manifest icons into public/icons/ (run from anywhere; needs rsvg-convert,
# Debian: apt-get install librsvg2-bin). Sources: public/favicon.svg (purpose "any") and
# maskable.svg beside this script, whose glyph stays inside the maskable safe zone (a
# centred circle of 40% radius, W3C Manifest §"icon masks"). Commit the PNGs it writes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
public="$here/../../../../public"
mkdir -p "$public/icons"
for size in 192 512; do
  rsvg-convert -w "$size" -h "$size" "$public/favicon.svg" -o "$public/icons/icon-$size.png"
done
rsvg-convert -w 512 -h 512 "$here/maskable.svg" -o "$public/icons/maskable-512.png"
