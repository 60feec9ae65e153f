// Compare two jumps: both videos side by side on one clock that counts from takeoff, each with its skeleton,
// any speed down to frame by frame; the difference table with the one difference that matters; the
// side-by-side MP4 and a read-only link. `base` is "" on the server's own page, "/shared/<token>" for a link.

import { API, ApiError, el, fileURL, getJSON, postJSON, request } from "./api.js";
import { Overlay, frameAt } from "./overlay.js";

const SPEEDS = [0.1, 0.25, 0.5, 1];
const DRIFT_S = 0.12; // while playing, B is moved back onto A's clock when it drifts further than this

function fmt(v, unit, signed = false) {
  if (v === null || v === undefined) return "–";
  const s = signed && v > 0 ? "+" : "";
  if (unit === "s" || unit === "m") return `${s}${v.toFixed(2)} ${unit}`;
  if (unit === "/10") return `${s}${v.toFixed(1)}${signed ? "" : "/10"}`;
  return `${s}${Math.round(v)}°`;
}

/** The table of differences: metric, A, B, B − A; the better side marked, the most important row first. */
export function differenceTable(c) {
  const rows = c.metrics.filter((m) => m.a !== null || m.b !== null);
  rows.sort((x, y) => (y.key === c.most_important) - (x.key === c.most_important));
  return el("table", { class: "diff-table", "aria-label": "Differences between the two jumps" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "measure"), el("th", { scope: "col" }, "A"),
      el("th", { scope: "col" }, "B"), el("th", { scope: "col" }, "B − A"))),
    el("tbody", {}, rows.map((m) => el("tr", { "data-key": m.key, class: m.key === c.most_important ? "key-row" : null },
      el("th", { scope: "row" }, m.label),
      el("td", { class: m.better === "a" ? "better" : null }, fmt(m.a, m.unit)),
      el("td", { class: m.better === "b" ? "better" : null }, fmt(m.b, m.unit)),
      el("td", { class: "num", "data-diff": m.diff === null ? "" : String(m.diff) }, fmt(m.diff, m.unit, true))))));
}

/** One side: video + skeleton canvas, following its own presented frames. */
function side(label, jobId, base, result, jump, info) {
  const video = el("video", { playsinline: true, preload: "auto", muted: true, src: fileURL(jobId, "video", base),
    "aria-label": `Attempt ${label}: ${info.video_name}` });
  const canvas = el("canvas", { class: "overlay", "aria-hidden": "true" });
  const stage = el("div", { class: "stage", style: `aspect-ratio: ${result.video.width} / ${result.video.height}` },
    video, canvas);
  const overlay = new Overlay(canvas, result);
  const s = { label, video, overlay, times: result.timestamps_s, takeoff: jump.takeoff_s, frame: -1, time: 0, alive: true };
  const show = (t) => {
    s.time = t;
    s.frame = frameAt(s.times, t);
    overlay.draw(s.frame);
  };
  s.show = show;
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = (now, meta) => {
      if (!s.alive) return;
      show(meta.mediaTime);
      if (s.onFrame) s.onFrame(meta.mediaTime);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
  video.addEventListener("seeked", () => show(video.currentTime));
  video.addEventListener("loadeddata", () => show(video.currentTime));
  s.box = el("figure", { class: "cmp-side" }, stage,
    el("figcaption", {}, el("strong", {}, `${label}: `), info.trick, " · ", el("a", { href: base ? null : `#/jobs/${jobId}` },
      info.video_name), info.rider ? ` · ${info.rider}` : ""));
  return s;
}

function waitSeeked(video) {
  return new Promise((resolve) => {
    if (!video.seeking) resolve();
    else video.addEventListener("seeked", () => resolve(), { once: true });
  });
}

/** Open the comparison of refs a and b ("JOB:N") in `root`; resolves to a function that closes it. */
export async function openCompare(root, a, b, { base = "", compare = null } = {}) {
  const state = { ready: false };
  window.poseCompare = state;
  root.replaceChildren(el("p", { class: "muted", role: "status" }, "Loading the two jumps…"));
  let c;
  let results;
  try {
    c = compare || await getJSON(`/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    results = await Promise.all([c.a.job_id, c.b.job_id].map((id) => getJSON(`${base}/jobs/${id}/result.json`)));
  } catch (err) {
    root.replaceChildren(el("div", { class: "card" }, el("p", { class: "message error" },
      err instanceof ApiError ? err.text : String(err)), base ? "" : el("a", { href: "#/riders" }, "Back to the riders")));
    return () => {};
  }
  const jumps = [results[0].analysis.jumps[c.a.jump - 1], results[1].analysis.jumps[c.b.jump - 1]];
  const A = side("A", c.a.job_id, base, results[0], jumps[0], c.a);
  const B = side("B", c.b.job_id, base, results[1], jumps[1], c.b);
  state.a = A;
  state.b = B;
  state.compare = c;
  // the shared clock r: seconds from takeoff, the same for both; it runs from the earlier start to the later end
  const lead = Math.min(A.takeoff, B.takeoff);
  const end = Math.min(A.times.at(-1) - A.takeoff, B.times.at(-1) - B.takeoff);
  const step = 1 / (results[0].video.fps || 30);

  const playBtn = el("button", { type: "button" }, "Play");
  const prevBtn = el("button", { type: "button", class: "secondary", "aria-label": "Previous frame" }, "◀ frame");
  const nextBtn = el("button", { type: "button", class: "secondary", "aria-label": "Next frame" }, "frame ▶");
  const takeoffBtn = el("button", { type: "button", class: "secondary" }, "Takeoff");
  const speed = el("select", { "aria-label": "Playback speed" },
    SPEEDS.map((s) => el("option", { value: String(s), selected: s === 0.25 }, `${s}×`)));
  const seekBar = el("input", { type: "range", min: String(-lead), max: String(end), step: "0.001", value: "0",
    "aria-label": "Time from takeoff" });
  const clock = el("span", { class: "time" }, "takeoff");
  const videoUrl = base ? `${API}${base}/compare/video`
    : `${API}/compare/video?a=${encodeURIComponent(c.a.ref)}&b=${encodeURIComponent(c.b.ref)}`;
  const shareBox = el("div", { class: "share-box" });
  const threeSection = el("section", { class: "card", "aria-labelledby": "c-3d" },
    el("h2", { id: "c-3d" }, "3D bodies, aligned at takeoff"));
  root.replaceChildren(
    base ? el("p", { class: "muted" }, "A shared comparison (read-only).") : el("p", {}, el("a", { href: "#/riders" }, "← Riders")),
    el("section", { class: "card", "aria-labelledby": "c-title" },
      el("h1", { id: "c-title" }, `${c.a.trick} against ${c.b.trick}`),
      el("p", { class: "summary", id: "c-explanation" }, c.explanation),
      el("div", { class: "cmp-grid" }, A.box, B.box),
      el("div", { class: "controls" }, playBtn, prevBtn, nextBtn, takeoffBtn, speed, clock, seekBar),
      el("p", { class: "muted small-text" }, "Both videos run on one clock that counts from each jump's takeoff.")),
    el("section", { class: "card", "aria-labelledby": "c-diff" }, el("h2", { id: "c-diff" }, "Differences"),
      differenceTable(c),
      el("div", { class: "buttons" }, el("a", { class: "button small secondary", href: videoUrl, download: "compare.mp4" },
        "Side-by-side MP4"), base ? null : el("button", { type: "button", class: "small", onclick: () => share() }, "Share…")),
      shareBox),
    threeSection);

  let scene3d = null;
  let playing = false;
  function showClock(r) {
    clock.textContent = Math.abs(r) < step / 2 ? "takeoff" : `${r > 0 ? "+" : ""}${r.toFixed(2)} s`;
    if (document.activeElement !== seekBar) seekBar.value = String(r);
    state.r = r;
    if (scene3d) scene3d.setTime(r);
  }
  async function seek(r) {
    r = Math.min(end, Math.max(-lead, r));
    // a hair past the frame's time, so each video shows that frame and not the one before
    A.video.currentTime = A.takeoff + r + 1e-4;
    B.video.currentTime = B.takeoff + r + 1e-4;
    showClock(r);
    await Promise.all([waitSeeked(A.video), waitSeeked(B.video)]);
    A.show(A.video.currentTime);
    B.show(B.video.currentTime);
  }
  state.seek = seek;
  A.onFrame = (t) => {
    const r = t - A.takeoff;
    showClock(r);
    if (playing && Math.abs(B.video.currentTime - (B.takeoff + r)) > DRIFT_S) B.video.currentTime = B.takeoff + r;
    if (playing && r >= end - step) pause();
  };
  function pause() {
    playing = false;
    A.video.pause();
    B.video.pause();
    playBtn.textContent = "Play";
  }
  async function play() {
    const rate = Number(speed.value);
    A.video.playbackRate = rate;
    B.video.playbackRate = rate;
    if ((state.r ?? 0) >= end - step) await seek(-lead);
    playing = true;
    playBtn.textContent = "Pause";
    await Promise.all([A.video.play(), B.video.play()]).catch(() => pause());
  }
  async function frameStep(n) {
    pause();
    const i = Math.min(A.times.length - 1, Math.max(0, frameAt(A.times, A.takeoff + (state.r ?? 0)) + n));
    await seek(A.times[i] - A.takeoff);
  }
  async function share() {
    try {
      const s = await postJSON("/shares", { a: c.a.ref, b: c.b.ref });
      const url = new URL(`#/shared/${s.token}`, location.href).href;
      shareBox.replaceChildren(el("p", {}, "Read-only link: ", el("a", { href: url, class: "share-link" }, url)),
        el("button", { type: "button", class: "small secondary", onclick: async () => {
          await request(`/shares/${s.token}`, { method: "DELETE" });
          shareBox.replaceChildren(el("p", { class: "muted" }, "Link revoked."));
        } }, "Revoke the link"));
    } catch (err) {
      shareBox.replaceChildren(el("p", { class: "message error" }, err instanceof ApiError ? err.text : String(err)));
    }
  }
  playBtn.addEventListener("click", () => (playing ? pause() : play()));
  prevBtn.addEventListener("click", () => frameStep(-1));
  nextBtn.addEventListener("click", () => frameStep(1));
  takeoffBtn.addEventListener("click", () => { pause(); seek(0); });
  seekBar.addEventListener("input", () => { pause(); seek(Number(seekBar.value)); });
  speed.addEventListener("change", () => {
    A.video.playbackRate = Number(speed.value);
    B.video.playbackRate = Number(speed.value);
  });
  // a video this browser cannot play still leaves the table and the link working: wait at most 15 s
  await Promise.all([A.video, B.video].map((v) => (v.readyState >= 2 ? null : new Promise((resolve) => {
    v.addEventListener("loadeddata", resolve, { once: true });
    v.addEventListener("error", resolve, { once: true });
    setTimeout(resolve, 15000);
  }))));
  const nodes = results.map((r) => (r.tracks.find((t) => t.is_rider) || {}).body?.glb_node || null);
  if (nodes.every(Boolean)) {
    const box = el("div", { class: "three-wrap" });
    threeSection.append(box, el("p", { class: "muted small-text" }, "A solid orange, B see-through blue, moved and "
      + "turned so that its hips and facing match A's at takeoff. Drag to orbit, scroll to zoom."));
    try {
      const { CompareScene } = await import("./compare3d.js");
      scene3d = new CompareScene(box);
      await scene3d.load({ url: fileURL(c.a.job_id, "result.glb", base), riderNode: nodes[0], takeoff: A.takeoff },
        { url: fileURL(c.b.job_id, "result.glb", base), riderNode: nodes[1], takeoff: B.takeoff });
      state.scene = scene3d;
    } catch (err) {
      scene3d = null;
      box.replaceWith(el("p", { class: "message error" }, `The 3D view could not start: ${err.message || err}`));
    }
  } else {
    threeSection.append(el("p", { class: "empty-state" }, "No 3D bodies: both jobs need the body mesh fit "
      + "(tick “Fit 3D body meshes” when uploading)."));
  }
  await seek(0);
  state.ready = true;
  return () => {
    if (scene3d) scene3d.dispose();
    A.alive = false;
    B.alive = false;
    pause();
    A.video.removeAttribute("src");
    B.video.removeAttribute("src");
  };
}
