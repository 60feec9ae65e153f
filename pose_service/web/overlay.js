// The 2D skeletons of every tracked person, drawn on a canvas over the video at the frame being shown.

// BlazePose's 33 keypoints: the bones drawn between them (indices into keypoint_names).
const BONES = [
  [11, 12], [11, 23], [12, 24], [23, 24], // trunk
  [11, 13], [13, 15], [15, 17], [15, 19], [15, 21], [17, 19], // left arm and hand
  [12, 14], [14, 16], [16, 18], [16, 20], [16, 22], [18, 20], // right arm and hand
  [23, 25], [25, 27], [27, 29], [27, 31], [29, 31], // left leg and foot
  [24, 26], [26, 28], [28, 30], [28, 32], [30, 32], // right leg and foot
  [0, 2], [0, 5], [2, 7], [5, 8], [9, 10], // face
];
const MIN_VISIBILITY = 0.3;
export const RIDER_COLOUR = "#ff6a00";
export const OTHER_COLOURS = ["#2aa3ff", "#39d98a", "#c86bff", "#ffd400", "#ff4f9a", "#7fe0ff"];

/** Index of the largest value <= x in a sorted array (-1 if none). */
export function floorIndex(sorted, x) {
  let lo = 0;
  let hi = sorted.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** The frame shown at media time t: the nearest decoded timestamp. */
export function frameAt(timestamps, t) {
  if (!timestamps.length) return -1;
  const i = floorIndex(timestamps, t);
  if (i < 0) return 0;
  if (i + 1 < timestamps.length && timestamps[i + 1] - t < t - timestamps[i]) return i + 1;
  return i;
}

export function trackColour(track, others) {
  return track.is_rider ? RIDER_COLOUR : OTHER_COLOURS[others.indexOf(track) % OTHER_COLOURS.length];
}

export class Overlay {
  /** canvas over the video; result: result.json; width/height: the upright picture's pixels. */
  constructor(canvas, result) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.result = result;
    this.width = result.video.width;
    this.height = result.video.height;
    this.hidden = new Set(); // track ids not drawn
    this.others = result.tracks.filter((t) => !t.is_rider);
    this.frame = -1;
    this.drawnPoints = 0;
  }

  setVisible(trackId, visible) {
    if (visible) this.hidden.delete(trackId);
    else this.hidden.add(trackId);
    this.draw(this.frame, true);
  }

  fit() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      return true;
    }
    return false;
  }

  /** Draw frame `frame` (index into timestamps_s); skipped when it is already on the canvas. */
  draw(frame, force = false) {
    const resized = this.fit();
    if (frame === this.frame && !force && !resized) return;
    this.frame = frame;
    const { ctx, canvas } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    // the video is letterboxed inside the element (object-fit: contain): map picture pixels the same way
    const scale = Math.min(canvas.width / this.width, canvas.height / this.height);
    const ox = (canvas.width - this.width * scale) / 2;
    const oy = (canvas.height - this.height * scale) / 2;
    const unit = Math.max(1.2 * (window.devicePixelRatio || 1), canvas.width / 400);
    let points = 0;
    // others first, so the rider is drawn on top
    const tracks = [...this.others, ...this.result.tracks.filter((t) => t.is_rider)];
    for (const track of tracks) {
      if (this.hidden.has(track.id)) continue;
      const k = floorIndex(track.frames, frame);
      if (k < 0 || track.frames[k] !== frame) continue;
      const kp = track.keypoints_2d[k];
      const colour = trackColour(track, this.others);
      const lw = (track.is_rider ? 3 : 2) * unit;
      const px = (p) => [ox + p[0] * scale, oy + p[1] * scale];
      ctx.lineCap = "round";
      ctx.beginPath();
      for (const [a, b] of BONES) {
        if (kp[a][2] < MIN_VISIBILITY || kp[b][2] < MIN_VISIBILITY) continue;
        const [x0, y0] = px(kp[a]);
        const [x1, y1] = px(kp[b]);
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
      }
      ctx.strokeStyle = "rgba(0, 0, 0, 0.55)"; // a dark edge keeps the bones visible on any jacket or snow
      ctx.lineWidth = lw + 2 * unit;
      ctx.stroke();
      ctx.strokeStyle = colour;
      ctx.lineWidth = lw;
      ctx.stroke();
      ctx.fillStyle = colour;
      for (const p of kp) {
        if (p[2] < MIN_VISIBILITY) continue;
        const [x, y] = px(p);
        ctx.beginPath();
        ctx.arc(x, y, lw * 0.9, 0, 2 * Math.PI);
        ctx.fill();
        points++;
      }
      if (track.bbox && track.bbox[k]) {
        const [x0, y0] = px(track.bbox[k]);
        ctx.font = `${Math.round(12 * unit)}px system-ui, sans-serif`;
        ctx.fillText(track.is_rider ? `rider #${track.id}` : `#${track.id}`, x0, Math.max(12 * unit, y0 - 4 * unit));
      }
    }
    this.drawnPoints = points;
  }
}
