#!/bin/sh
# Made once with Debian's ffmpeg; the outputs are committed beside this script.
# One small, playable H.264 MP4 (5 s, 5 fps, silent AAC track) per aspect ratio
# the service offers, and a PNG for the last frame.
set -eu
cd "$(dirname "$0")"
make_one() { # name width height
    ffmpeg -v error -y -f lavfi -i "testsrc=size=$2x$3:rate=5:duration=5" \
        -f lavfi -i "anullsrc=channel_layout=mono:sample_rate=8000" -t 5 \
        -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p -c:a aac -b:a 8k \
        -movflags +faststart -shortest "$1.mp4"
}
make_one 16x9 160 90
make_one 9x16 90 160
make_one 1x1 120 120
make_one 4x3 120 90
make_one 3x4 90 120
make_one 21x9 210 90
ffmpeg -v error -y -f lavfi -i "testsrc=size=160x90:rate=1:duration=1" -frames:v 1 last-frame.png
