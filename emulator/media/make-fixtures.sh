#!/bin/sh
# Made once with Debian's ffmpeg; the outputs are committed beside this script.
# A small, playable H.264 MP4 (1 fps test pattern, silent AAC track) for every
# aspect ratio the service offers and every duration it accepts (4 to 15 s):
# ASPECT-Ns.mp4, e.g. 16x9-5s.mp4. Plus a PNG for the last frame.
set -eu
cd "$(dirname "$0")"
make_one() { # name width height seconds
    ffmpeg -v error -y -f lavfi -i "testsrc=size=$2x$3:rate=1:duration=$4" \
        -f lavfi -i "anullsrc=channel_layout=mono:sample_rate=8000" -t "$4" \
        -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p -c:a aac -b:a 8k \
        -movflags +faststart -shortest "$1-$4s.mp4"
}
for s in 4 5 6 7 8 9 10 11 12 13 14 15; do
    make_one 16x9 160 90 "$s"
    make_one 9x16 90 160 "$s"
    make_one 1x1 120 120 "$s"
    make_one 4x3 120 90 "$s"
    make_one 3x4 90 120 "$s"
    make_one 21x9 210 90 "$s"
done
ffmpeg -v error -y -f lavfi -i "testsrc=size=160x90:rate=1:duration=1" -frames:v 1 last-frame.png
# ASPECT.mp4: the default duration (5 s), for scripts that want "the" clip of an aspect.
for a in 16x9 9x16 1x1 4x3 3x4 21x9; do ln -sf "$a-5s.mp4" "$a.mp4"; done
