// Upload view: drag-drop or pick a clip, send it with tus (resumable across reloads and dropped
// connections), then turn the finished upload into a job.

import { API, ApiError, el, errorOf, formatBytes, formatDuration, needToken, postJSON } from "./api.js";

const tus = globalThis.tus;
// The server makes each 8 MB durable, so a dropped connection loses less than that. `?chunk=BYTES` in the page's
// address sends smaller requests, for a connection that drops often (each finished request is kept).
const CHUNK = Math.max(16 * 1024, Number(new URLSearchParams(location.search).get("chunk")) || 8 * 1024 * 1024);
const SPEED_WINDOW_MS = 5000;

const $ = (id) => document.getElementById(id);

let current = null; // {upload, file, samples: [[ms, bytes]], paused}

function message(text, kind = "info") {
  const box = $("up-message");
  box.className = `message ${kind}`;
  box.textContent = text;
}

/** The API's error inside a tus-js-client error, else the error's own text. */
function tusError(err) {
  const resp = err && err.originalResponse;
  if (resp) {
    if (resp.getStatus() === 401) needToken();
    const e = errorOf(resp.getStatus(), resp.getBody() || "");
    return e.text;
  }
  if (err && err.originalRequest) return "the connection to the server was lost; it will resume when you try again";
  return String((err && err.message) || err);
}

function showProgress(sent, total) {
  const now = performance.now();
  const s = current.samples;
  s.push([now, sent]);
  while (s.length > 2 && now - s[0][0] > SPEED_WINDOW_MS) s.shift();
  const [t0, b0] = s[0];
  const speed = now > t0 ? ((sent - b0) * 1000) / (now - t0) : NaN;
  $("up-bar").value = total ? sent / total : 0;
  $("up-pct").textContent = `${total ? ((100 * sent) / total).toFixed(1) : 0}% of ${formatBytes(total)}`;
  $("up-speed").textContent = speed > 0 ? `${formatBytes(speed)}/s` : "–";
  $("up-eta").textContent = speed > 0 ? `${formatDuration((total - sent) / speed)} left` : "–";
}

function finish() {
  current = null;
  $("progress").hidden = true;
  $("file").value = "";
  listResumable();
}

async function submit(uploadUrl, name) {
  const uploadId = uploadUrl.split("/").filter(Boolean).pop();
  message(`${name} uploaded; checking the video…`);
  try {
    const job = await postJSON("/jobs", {
      upload_id: uploadId,
      mesh: $("opt-mesh").checked,
      overlay: $("opt-overlay").checked,
      rider: $("opt-rider").value.trim() || null,
    });
    message(`${name} is queued as job ${job.id}.`, "ok");
    document.dispatchEvent(new CustomEvent("job-created", { detail: job }));
  } catch (err) {
    const text = err instanceof ApiError ? err.text : String(err);
    message(`${name} was not accepted: ${text}`, "error");
  }
}

export function startUpload(file) {
  if (!tus || !tus.isSupported) {
    message("This browser cannot upload resumably; use a current browser.", "error");
    return;
  }
  if (current) {
    message("One upload at a time: wait for this one or cancel it.", "error");
    return;
  }
  if (!file.size) {
    message(`${file.name} is empty (0 bytes): choose the video file itself.`, "error");
    return;
  }
  const upload = new tus.Upload(file, {
    endpoint: `${API}/uploads`,
    chunkSize: CHUNK,
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
    removeFingerprintOnSuccess: true,
    // a lost connection is retried even while the browser says it is offline (phones flip that often);
    // a refusal (4xx other than 409/423) is final
    onShouldRetry: (err) => {
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      return status === 0 || status >= 500 || status === 409 || status === 423;
    },
    onProgress: (sent, total) => showProgress(sent, total),
    onError: (err) => {
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      if (status === 0 && current && current.upload === upload) {
        // still no connection after every retry: keep the upload, resume when the browser is back online
        current.paused = true;
        current.dropped = true;
        $("up-pause").textContent = "Resume";
        message(`The connection dropped; ${file.name} resumes when it is back (or press Resume).`, "error");
        return;
      }
      const name = file.name;
      finish();
      message(`Upload of ${name} stopped: ${tusError(err)}`, "error");
    },
    onSuccess: () => {
      const url = upload.url;
      finish();
      submit(url, file.name);
    },
  });
  current = { upload, file, samples: [], paused: false };
  $("up-name").textContent = file.name;
  $("progress").hidden = false;
  $("up-pause").textContent = "Pause";
  $("resumable").hidden = true;
  showProgress(0, file.size);
  message(`Uploading ${file.name}…`);
  upload.findPreviousUploads().then((previous) => {
    if (previous.length) {
      upload.resumeFromPreviousUpload(previous[0]);
      message(`Resuming ${file.name} where it stopped…`);
    }
    upload.start();
  });
}

/** Uploads left unfinished by an earlier visit (kept by tus in localStorage): pick the same file to resume. */
async function listResumable() {
  const box = $("resumable");
  let stored = [];
  try {
    stored = await tus.defaultOptions.urlStorage.findAllUploads();
  } catch {
    return;
  }
  const items = [];
  for (const entry of stored) {
    let offset = null;
    try {
      const r = await fetch(entry.uploadUrl, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } });
      if (r.status === 404 || r.status === 410) { // expired or already a job
        await tus.defaultOptions.urlStorage.removeUpload(entry.urlStorageKey);
        continue;
      }
      if (r.ok) offset = Number(r.headers.get("Upload-Offset"));
    } catch {
      // the server is not reachable now: still offer it
    }
    const name = (entry.metadata && entry.metadata.filename) || "a file";
    const pct = offset !== null && entry.size ? ` (${Math.floor((100 * offset) / entry.size)}% sent)` : "";
    const forget = el("button", { type: "button", class: "secondary small", onclick: async () => {
      await tus.defaultOptions.urlStorage.removeUpload(entry.urlStorageKey);
      fetch(entry.uploadUrl, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0" } }).catch(() => {});
      listResumable();
    } }, "Forget");
    items.push(el("li", {}, `${name}, ${formatBytes(entry.size)}${pct} `, forget));
  }
  box.replaceChildren();
  if (items.length) {
    box.append(el("p", {}, "Unfinished upload: choose the same file again to resume it."), el("ul", {}, items));
  }
  box.hidden = !items.length;
}

export function initUpload() {
  const drop = $("drop");
  const input = $("file");
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener("change", () => input.files.length && startUpload(input.files[0]));
  for (const kind of ["dragenter", "dragover"]) {
    drop.addEventListener(kind, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const kind of ["dragleave", "drop"]) drop.addEventListener(kind, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const files = e.dataTransfer && e.dataTransfer.files;
    if (files && files.length) startUpload(files[0]);
  });
  window.addEventListener("online", () => {
    if (current && current.dropped) $("up-pause").click();
  });
  $("up-pause").addEventListener("click", () => {
    if (!current) return;
    if (current.paused) {
      current.paused = false;
      current.dropped = false;
      current.samples = [];
      current.upload.start();
      $("up-pause").textContent = "Pause";
      message(`Uploading ${current.file.name}…`);
    } else {
      current.paused = true;
      current.upload.abort();
      $("up-pause").textContent = "Resume";
      message(`Paused ${current.file.name}; it resumes from here, even after a reload.`);
    }
  });
  $("up-cancel").addEventListener("click", async () => {
    if (!current) return;
    const { upload, file } = current;
    finish();
    await upload.abort(true).catch(() => {});
    message(`Cancelled the upload of ${file.name}.`);
  });
  listResumable();
}
