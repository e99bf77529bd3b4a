# The Python example of the service's reference page, unchanged but for the
# base URL and the token (taken from the command line), then polled to the end
# and downloaded the way a plain requests user would.
#   /usr/bin/python3 spec/support/reference_example.py BASE_URL TOKEN OUT.mp4
import sys
import time

import requests

base, token, out = sys.argv[1], sys.argv[2], sys.argv[3]

url = base + "/v1/videos/generations"

payload = {
    "model": "doubao-seedance-2.0",
    "prompt": "小猫对着镜头打哈欠",
    "resolution": "720p",
    "size": "16:9",
    "duration": 5,
    "generate_audio": True
}

headers = {
    "Authorization": "Bearer " + token,
    "Content-Type": "application/json"
}

response = requests.post(url, json=payload, headers=headers)

print(response.json())

task_id = response.json()["data"][0]["task_id"]
for _ in range(200):
    task = requests.get(base + "/v1/tasks/" + task_id, headers=headers).json()["data"]
    if task["status"] in ("completed", "failed", "cancelled"):
        break
    time.sleep(0.05)
print(task["status"], task["progress"])
video = task["result"]["videos"][0]["url"]
video = video[0] if isinstance(video, list) else video
with open(out, "wb") as f:
    f.write(requests.get(video).content)
print("saved", out)
