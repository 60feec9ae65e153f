// Viewer of a finished job: the video with every skeleton over it, the 3D bodies, angle plots, the jumps
// with their explanations, and the result files. Everything follows the video's real frame timestamps.

import { ApiError, el, fileURL, formatDuration, getJSON, postJSON, request } from "./api.js";
import { Overlay, frameAt, trackColour } from "./overlay.js";

const SPEEDS = [0.1, 0.25, 0.5, 1, 2];
const DIR = { left: "to the left", right: "to the right", front: "forward", back: "backward" };

function fmt(t) {
  return Number.isFinite(t) ? `${t.toFixed(2)} s` : "–";
}

function jumpTitle(j, i) {
  const parts = [];
  if (j.spin_deg >= 90) parts.push(`${Math.round(j.spin_deg / 180) * 180 || Math.round(j.spin_deg)} spin ${DIR[j.spin_direction] || ""}`);
  if (j.flip_deg >= 90) parts.push(`${Math.round(j.flip_deg / 180) * 180} flip ${DIR[j.flip_direction] || ""}`);
  if (j.grab) parts.push(j.grab.name);
  return `Jump ${i + 1}${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

/** Make a read-only link to job `id` and show it (with a button that revokes it) in `box`. */
async function shareJob(id, box) {
  try {
    const s = await postJSON("/shares", { job: id });
    const url = new URL(`#/shared/${s.token}`, location.href).href;
    box.replaceChildren(el("p", {}, "Read-only link: ", el("a", { href: url, class: "share-link" }, url)),
      el("button", { type: "button", class: "small secondary", onclick: async () => {
        await request(`/shares/${s.token}`, { method: "DELETE" });
        box.replaceChildren(el("p", { class: "muted" }, "Link revoked."));
      } }, "Revoke the link"));
  } catch (err) {
    box.replaceChildren(el("p", { class: "message error" }, err instanceof ApiError ? err.text : String(err)));
  }
}

/** Open the viewer of job `id` in `root`; resolves to a function that closes it. */
export async function openViewer(root, id, { base = "" } = {}) {
  const t0 = performance.now();
  const state = { ready: false, frame: -1, glb: { loaded: false, error: null, bonesAnimated: 0 }, readyMs: null };
  window.poseViewer = state;
  root.replaceChildren(el("p", { class: "muted", role: "status" }, "Loading the results…"));
  let job;
  let result;
  try {
    job = await getJSON(`${base}/jobs/${encodeURIComponent(id)}`);
    if (job.state !== "succeeded") {
      root.replaceChildren(el("div", { class: "card" }, el("h1", {}, job.video_name || id),
        el("p", {}, `This job is ${job.state}; the viewer opens when it has succeeded.`),
        el("a", { href: "#/" }, "Back to the jobs")));
      return () => {};
    }
    result = await getJSON(`${base}/jobs/${encodeURIComponent(id)}/result.json`);
    state.timings = { resultMs: performance.now() - t0 };
  } catch (err) {
    root.replaceChildren(el("div", { class: "card" }, el("p", { class: "message error" },
      err instanceof ApiError ? err.text : String(err)), el("a", { href: "#/" }, "Back to the jobs")));
    return () => {};
  }
  const times = result.timestamps_s;
  const analysis = result.analysis || {};
  const jumps = analysis.jumps || [];
  const rider = result.tracks.find((t) => t.is_rider) || null;
  const others = result.tracks.filter((t) => !t.is_rider);
  const cleanups = [];

  // --- video and 2D overlay
  const video = el("video", { playsinline: true, preload: "auto", muted: true, src: fileURL(id, "video", base),
    "aria-label": `The uploaded video, ${result.video.name}` });
  const canvas = el("canvas", { class: "overlay", "aria-hidden": "true" });
  const stage = el("div", { class: "stage", style: `aspect-ratio: ${result.video.width} / ${result.video.height}` },
    video, canvas);
  const overlay = new Overlay(canvas, result);
  state.overlay = overlay;

  const playBtn = el("button", { type: "button", "aria-label": "Play (space)" }, "Play");
  const prevBtn = el("button", { type: "button", class: "secondary", "aria-label": "Previous frame (left arrow)" }, "◀ frame");
  const nextBtn = el("button", { type: "button", class: "secondary", "aria-label": "Next frame (right arrow)" }, "frame ▶");
  const seekBar = el("input", { type: "range", min: "0", max: String(result.video.duration_s || times.at(-1) || 0),
    step: "0.001", value: "0", "aria-label": "Position in the video" });
  const timeLabel = el("span", { class: "time", "aria-live": "off" }, "0.00 s");
  const speed = el("select", { "aria-label": "Playback speed" },
    SPEEDS.map((s) => el("option", { value: String(s), selected: s === 1 }, `${s}×`)));
  const videoMsg = el("p", { class: "message error", role: "status" });
  const people = el("div", { class: "people", role: "group", "aria-label": "People shown" });
  for (const track of [...(rider ? [rider] : []), ...others]) {
    const box = el("input", { type: "checkbox", checked: true, id: `show-${track.id}` });
    box.addEventListener("change", () => {
      overlay.setVisible(track.id, box.checked);
      if (scene && track.body) scene.setVisible(track.body.glb_node, box.checked);
    });
    people.append(el("label", { for: `show-${track.id}` }, box,
      el("span", { class: "swatch", style: `background:${trackColour(track, others)}` }),
      track.is_rider ? `Rider #${track.id}` : `Person #${track.id}`));
  }

  // --- layout
  const threeBox = el("div", { class: "three-wrap" });
  const threeButtons = el("div", { class: "buttons" });
  const threeSection = el("section", { class: "card", "aria-labelledby": "v-3d" }, el("h2", { id: "v-3d" }, "3D bodies"),
    threeBox, threeButtons);
  const jumpsSection = el("section", { class: "card", "aria-labelledby": "v-jumps" }, el("h2", { id: "v-jumps" }, "Jumps"));
  const plotBox = el("div", { class: "plot" });
  const plotSection = el("section", { class: "card", "aria-labelledby": "v-angles" },
    el("h2", { id: "v-angles" }, "Angles of the rider"), plotBox,
    el("p", { class: "muted small-text" }, "Click the plot to move the video there; click a name to show or hide it. "
      + "180° is a straight knee, hip or elbow."));
  const downloads = el("div", { class: "downloads" },
    [...job.files, "video"].map((name) => el("a", { class: "button small secondary", href: fileURL(id, name, base),
      download: name === "video" ? job.video_name : name }, name === "video" ? `video (${job.video_name})` : name)));
  const shareBox = el("div", { class: "share-box" });
  root.replaceChildren(
    base ? el("p", { class: "muted" }, "A shared result (read-only).") : el("p", {}, el("a", { href: "#/" }, "← All jobs"),
      job.rider ? [" · ", el("a", { href: `#/riders/${encodeURIComponent(job.rider)}` }, `${job.rider}'s jumps`)] : null,
      " · ", el("button", { type: "button", class: "small secondary", onclick: () => shareJob(id, shareBox) }, "Share…"), shareBox),
    el("section", { class: "card", "aria-labelledby": "v-title" },
      el("h1", { id: "v-title" }, job.video_name),
      el("p", { class: "summary" }, analysis.summary || "No analysis summary."),
      el("p", { class: "muted small-text" }, `${result.video.width}×${result.video.height}, ${result.video.fps} fps, `
        + `${formatDuration(result.video.duration_s)}, ${result.tracks.length} ${result.tracks.length === 1 ? "person" : "people"}`)),
    el("div", { class: "viewer-grid" },
      el("section", { class: "card", "aria-labelledby": "v-video" }, el("h2", { id: "v-video" }, "Video and skeletons"),
        stage, el("div", { class: "controls" }, playBtn, prevBtn, nextBtn, speed, timeLabel, seekBar), videoMsg, people,
        el("p", { class: "muted small-text" }, "Keys: ", el("kbd", {}, "space"), " play/pause, ", el("kbd", {}, "←"), " ",
          el("kbd", {}, "→"), " one frame, ", el("kbd", {}, "shift"), "+arrows one second.")),
      threeSection),
    jumpsSection, plotSection,
    el("section", { class: "card", "aria-labelledby": "v-files" }, el("h2", { id: "v-files" }, "Downloads"), downloads));

  // --- time: one place that moves every view to the frame on screen
  let scene = null;
  let plot = null;
  let playhead = null;
  const seek = (t) => {
    video.currentTime = Math.min(Math.max(0, t), video.duration || t);
    onTime(video.currentTime);
  };
  function onTime(t) {
    const frame = frameAt(times, t);
    state.frame = frame;
    state.time = t;
    overlay.draw(frame);
    if (scene) scene.setTime(t);
    if (plot) plot.setTime(t, frame);
    if (playhead) playhead.style.left = `${(100 * t) / (result.video.duration_s || 1)}%`;
    timeLabel.textContent = `${fmt(t)} · frame ${frame + 1}/${times.length}`;
    if (document.activeElement !== seekBar) seekBar.value = String(t);
  }
  let alive = true;
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    // mediaTime is the presentation time of the frame actually composited: no drift from timeupdate's lag
    const onFrame = (now, meta) => {
      if (!alive) return;
      onTime(meta.mediaTime);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    const tick = () => {
      if (!alive) return;
      if (!video.paused) onTime(video.currentTime);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
  video.addEventListener("seeked", () => onTime(video.currentTime));
  video.addEventListener("loadeddata", () => onTime(video.currentTime));
  video.addEventListener("play", () => { playBtn.textContent = "Pause"; playBtn.setAttribute("aria-label", "Pause (space)"); });
  video.addEventListener("pause", () => { playBtn.textContent = "Play"; playBtn.setAttribute("aria-label", "Play (space)"); });
  video.addEventListener("ratechange", () => { speed.value = String(video.playbackRate); });
  video.addEventListener("error", () => {
    const alt = job.files.includes("overlay.mp4") ? " Showing overlay.mp4 instead." : "";
    videoMsg.textContent = `This browser cannot play ${job.video_name} (its codec); skeletons, 3D and plots still work.${alt}`;
    if (alt && !video.src.endsWith("overlay.mp4")) video.src = fileURL(id, "overlay.mp4", base);
  });
  const togglePlay = () => (video.paused ? video.play().catch(() => {}) : video.pause());
  const step = (n) => {
    video.pause();
    const i = Math.min(times.length - 1, Math.max(0, frameAt(times, video.currentTime) + n));
    seek(times[i] + 1e-4);
  };
  playBtn.addEventListener("click", togglePlay);
  prevBtn.addEventListener("click", () => step(-1));
  nextBtn.addEventListener("click", () => step(1));
  speed.addEventListener("change", () => { video.playbackRate = Number(speed.value); });
  seekBar.addEventListener("input", () => seek(Number(seekBar.value)));
  const onKey = (e) => {
    if (e.target.closest && e.target.closest("input, select, textarea")) return;
    if (e.key === " " || e.key === "k") {
      if (e.target.closest && e.target.closest("button, a")) return; // their own activation
      e.preventDefault();
      togglePlay();
    } else if (e.key === "ArrowLeft" || e.key === ",") {
      e.preventDefault();
      if (e.shiftKey) seek(video.currentTime - 1);
      else step(-1);
    } else if (e.key === "ArrowRight" || e.key === ".") {
      e.preventDefault();
      if (e.shiftKey) seek(video.currentTime + 1);
      else step(1);
    }
  };
  document.addEventListener("keydown", onKey);
  cleanups.push(() => document.removeEventListener("keydown", onKey));

  // --- jumps
  const duration = result.video.duration_s || times.at(-1) || 1;
  const playJump = (j) => {
    seek(j.takeoff_s);
    video.playbackRate = 0.25;
    video.play().catch(() => {});
  };
  if (!jumps.length) {
    jumpsSection.append(el("p", { class: "empty-state" },
      rider ? "No jumps: the rider's hips never left a ground-contact path long enough to count as a flight."
        : "No jumps: no rider was found in this clip."));
  } else {
    const timeline = el("div", { class: "timeline", role: "group", "aria-label": "Jumps along the video" });
    playhead = el("div", { class: "playhead" });
    jumps.forEach((j, i) => {
      const left = (100 * j.takeoff_s) / duration;
      const width = (100 * (j.landing_s - j.takeoff_s)) / duration;
      timeline.append(el("button", { type: "button", class: "jump", style: `left:${left}%;width:${width}%`,
        "aria-label": `${jumpTitle(j, i)}, at ${fmt(j.takeoff_s)}: play at quarter speed`, onclick: () => playJump(j) },
      String(i + 1)));
    });
    timeline.append(playhead);
    // many jumps scroll inside their own box (focusable, so the keyboard scrolls it too)
    const list = el("ol", { class: jumps.length > 3 ? "jump-list scroll" : "jump-list",
      tabindex: jumps.length > 3 ? "0" : null, "aria-label": "Every jump, explained" }, jumps.map((j, i) => el("li", {},
      el("h3", {}, jumpTitle(j, i)),
      el("div", { class: "jump-facts" },
        el("span", {}, `takeoff ${fmt(j.takeoff_s)}`), el("span", {}, `landing ${fmt(j.landing_s)}`),
        el("span", {}, `air ${fmt(j.air_time_s)}`),
        el("span", {}, `spin ${Math.round(j.spin_deg)}° ${DIR[j.spin_direction] || ""}`),
        el("span", {}, `flip ${Math.round(j.flip_deg)}° ${DIR[j.flip_direction] || ""}`),
        j.height_m !== undefined && j.height_m !== null ? el("span", {}, `height ${j.height_m.toFixed(2)} m`) : null,
        j.grab ? el("span", { class: "grab" }, `grab ${j.grab.name} ${fmt(j.grab.start_s)}–${fmt(j.grab.end_s)}, `
          + `held ${fmt(j.grab.duration_s)}${j.grab.tweaked ? ", tweaked" : ""}`) : null),
      el("p", {}, j.explanation),
      el("button", { type: "button", class: "small", onclick: () => playJump(j) }, "Play at ¼ speed"),
      j.grab ? el("button", { type: "button", class: "small", onclick: () => playJump({ takeoff_s: j.grab.start_s }) },
        "Play the grab") : null)));
    jumpsSection.append(timeline, list);
  }

  // --- plots
  if (analysis.angles && analysis.angles.names && analysis.angles.names.length) {
    const { AnglePlot } = await import("./plots.js");
    plot = new AnglePlot(plotBox, analysis.angles, times, jumps, seek);
    state.timings.plotMs = performance.now() - t0;
    state.plot = plot;
    cleanups.push(() => plot.dispose());
  } else {
    plotBox.append(el("p", { class: "empty-state" }, "No angles: no rider was found in this clip."));
  }

  // --- 3D
  if (!job.files.includes("result.glb")) {
    threeBox.replaceWith(el("p", { class: "empty-state" }, job.options && job.options.mesh === false
      ? "No body mesh: this job ran without the 3D fit (tick “Fit 3D body meshes” when uploading)."
      : "No body mesh: no person could be fitted in this clip."));
  } else {
    try {
      const { Scene3D } = await import("./scene3d.js");
      scene = new Scene3D(threeBox, rider && rider.body ? rider.body.glb_node : null);
      state.scene = scene;
      cleanups.push(() => scene.dispose());
      state.timings.threeMs = performance.now() - t0;
      await scene.load(fileURL(id, "result.glb", base));
      state.timings.glbMs = performance.now() - t0;
      state.glb = { loaded: true, error: null, bonesAnimated: scene.bonesAnimated };
      threeButtons.append(
        el("button", { type: "button", class: "small secondary", onclick: () => scene.videoView() }, "Video's view"),
        el("button", { type: "button", class: "small", onclick: () => scene.behindRider() }, "Camera behind the rider"));
      scene.setTime(video.currentTime);
    } catch (err) {
      state.glb = { loaded: false, error: String(err), bonesAnimated: 0 };
      threeBox.replaceWith(el("p", { class: "message error" }, `The 3D view could not start: ${err.message || err}`));
    }
  }
  onTime(video.currentTime);
  state.ready = true;
  state.readyMs = performance.now() - t0;
  return () => {
    alive = false;
    video.pause();
    video.removeAttribute("src");
    for (const f of cleanups) f();
  };
}
