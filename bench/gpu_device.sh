#!/usr/bin/env bash
# The GPU checks in one device-tool call, from what `bench/gpu_pack.sh` packed into `.carry/` (about 5 minutes on
# an H100, start-up not counted):
#
#     run(command="bash bench/gpu_device.sh", carry=[".carry"], timeout_s=480)    # PARTS="check analyze jobs"
#
#   check    bench/gpu_check.sh on the clips: both delegates' keypoints compared, frames/s of each, the 1080p clip
#            shrunk to 640 and 960 px, and CPU processes side by side (1, 4, 8, 16)
#   analyze  the whole `analyze --no-mesh` (start-up included) on phalp_vid with each device and frame rate, twice,
#            and on the three real kicker clips with each device: the jumps found, so a flip between the
#            delegates shows
#   jobs     bench/chunks.py: phalp_vid looped to 60 s, `--jobs 1, 4, 16` on the CPU delegate
#
# Logs and JSON land in $OUT (the tool brings them back). Runs on the image's Python 3.12; the packed site folder
# goes first on the path.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CARRY="$ROOT/.carry"
OUT="${OUT:-$(mktemp -d)}"
PARTS="${PARTS:-check analyze jobs}"
[[ -f "$CARRY/site.tar.xz" ]] || { echo "no $CARRY/site.tar.xz: run bench/gpu_pack.sh here first" >&2; exit 2; }

for f in "$CARRY"/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
vendor=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[[ -f $vendor ]] && export __EGL_VENDOR_LIBRARY_FILENAMES=$vendor
SITE="$(mktemp -d)"
tar -xJf "$CARRY/site.tar.xz" -C "$SITE"
export PYTHONPATH="$SITE/site" PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore POSE_SERVICE_DATA_DIR="$SITE/data"
python3 -c "import av, cv2, mediapipe, numpy; print('av', av.__version__, 'cv2', cv2.__version__, 'mediapipe',
            mediapipe.__version__, 'numpy', numpy.__version__)" || exit 2
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "cores: $(nproc)"
MEDIA="$CARRY/media"

if [[ " $PARTS " == *" check "* ]]; then
    echo "== check"
    PYTHON=python3 MEDIA="$MEDIA" SCALING=1,4,8,16 SIZES=640,960 timeout 300 bash bench/gpu_check.sh 2>&1 \
        | tee "$OUT/gpu_check.log"
fi

if [[ " $PARTS " == *" analyze "* ]]; then
    echo "== analyze --no-mesh --jobs 1, whole process"
    TIMEFORMAT='%R s wall, %U s user, %S s sys'
    runs="$(mktemp -d)"
    for round in 1 2; do
        for device in cpu gpu; do
            for rate in full adaptive; do
                echo -n "phalp_vid $device $rate (round $round): "
                { time timeout 120 python3 -m pose_service analyze "$MEDIA/phalp_vid.mp4" --no-mesh --jobs 1 \
                      --out "$runs/phalp_${device}_$rate" --device $device --frame-rate $rate >"$runs/log" 2>&1 \
                  || tail -n 3 "$runs/log"; } 2>&1
            done
        done
    done
    for clip in snow_seg1 snow_seg3 snow_seg6; do
        [[ -f "$MEDIA/real_snow/$clip.mov" ]] || continue
        for device in cpu gpu; do
            echo -n "$clip $device: "
            { time timeout 120 python3 -m pose_service analyze "$MEDIA/real_snow/$clip.mov" --no-mesh --jobs 1 \
                  --out "$runs/${clip}_$device" --device $device >"$runs/log" 2>&1 || tail -n 3 "$runs/log"; } 2>&1
        done
    done
    python3 - "$runs" <<'PY' | tee "$OUT/analyze.md"
import json, sys
from pathlib import Path
print("| run | device | max side | frames posed | jumps: takeoff-landing, air s, spin, flip |")
print("|---|---|---:|---:|---|")
for path in sorted(Path(sys.argv[1]).glob("*/result.json")):
    d = json.loads(path.read_text())
    b = d["backend"]
    jumps = "; ".join(f"{j['takeoff_frame']}-{j['landing_frame']}, {j['air_time_s']:.2f}, {j['spin_deg']:.0f}, "
                      f"{j['flip_deg']:.0f}" for j in d["analysis"]["jumps"]) or "none"
    print(f"| {path.parent.name} | {b['device']} | {b.get('pose_max_side')} | {b['frame_rate']['frames_posed']} "
          f"| {jumps} |")
PY
fi

if [[ " $PARTS " == *" jobs "* ]]; then
    echo "== jobs"
    timeout 300 python3 bench/chunks.py --clip "$MEDIA/phalp_vid.mp4" --seconds 60 --jobs 1,4,16 \
        --json "$OUT/chunks.json" 2>&1 | tee "$OUT/chunks.md"
fi
