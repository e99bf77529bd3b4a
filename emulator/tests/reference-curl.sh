#!/bin/sh
# The cURL example of the service's reference page, word for word, with only
# the base URL changed: $1 (the emulator's URL) instead of https://xcompute.us.
# The key stays the page's placeholder '<token>': the emulator accepts any
# non-empty key.
set -eu
BASE="$1"
  curl --request POST \
    --url "$BASE"/v1/videos/generations \
    --header 'Authorization: Bearer <token>' \
    --header 'Content-Type: application/json' \
    --data '{
      "model": "doubao-seedance-2.0",
      "prompt": "小猫对着镜头打哈欠",
      "resolution": "720p",
      "size": "16:9",
      "duration": 5,
      "generate_audio": true
    }'
