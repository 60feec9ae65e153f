// Jobs view: every job with its live state and progress (server-sent events), errors with the log's tail,
// cancel and retry.

import { API, ApiError, el, getJSON, postJSON } from "./api.js";

const MAX_STREAMS = 4; // a browser keeps ~6 connections per server; leave room for the page's own requests
const POLL_MS = 5000;
const STAGES = {
  starting: "starting", pose: "finding and tracking people", mesh: "fitting body meshes",
  overlay: "drawing the overlay video", join: "joining the chunks posed on several workers",
};

const jobs = new Map(); // id -> job (as the API returns it)
const streams = new Map(); // id -> EventSource
let pollTimer = null;

const terminal = (state) => ["succeeded", "failed", "cancelled"].includes(state);

function when(ts) {
  return ts ? new Date(ts * 1000).toLocaleString() : "";
}

function stageText(job) {
  const stage = job.stage ? STAGES[job.stage] || job.stage : "";
  return stage ? ` · ${stage}` : "";
}

function actionButton(label, cls, onclick) {
  return el("button", { type: "button", class: `small ${cls}`, onclick }, label);
}

async function act(job, verb, item) {
  const out = item.querySelector(".job-msg");
  try {
    const updated = await postJSON(`/jobs/${job.id}/${verb}`);
    out.textContent = "";
    update(updated);
  } catch (err) {
    out.textContent = err instanceof ApiError ? err.text : String(err);
  }
}

function render(job) {
  const pct = Math.round(100 * (job.progress || 0));
  const items = [
    el("div", { class: "job-head" },
      el("span", { class: `state ${job.state}`, text: job.state }),
      el("span", { class: "job-name", text: job.video_name || job.id }),
      el("span", { class: "muted small-text", text: when(job.created_at) })),
  ];
  if (!terminal(job.state)) {
    items.push(el("progress", { max: "100", value: String(pct), "aria-label": `Progress of ${job.video_name}` }));
    items.push(el("div", { class: "muted small-text progress-text", text: `${pct}%${stageText(job)}` }));
  }
  if (job.error) {
    const e = job.error;
    items.push(el("p", { class: "message error", text: e.hint ? `${e.message} (${e.hint})` : e.message }));
    if (e.log_tail) {
      items.push(el("details", {}, el("summary", {}, "Last lines of the log"), el("pre", { class: "log" }, e.log_tail)));
    }
  }
  const buttons = el("div", { class: "buttons" });
  if (job.state === "succeeded") buttons.append(el("a", { class: "button small", href: `#/jobs/${job.id}` }, "View"));
  if (!terminal(job.state)) buttons.append(actionButton("Cancel", "secondary", () => act(job, "cancel", item)));
  if (job.state === "failed" || job.state === "cancelled") {
    buttons.append(actionButton("Retry", "", () => act(job, "retry", item)));
  }
  buttons.append(el("a", { class: "button small secondary", href: `${API}/jobs/${job.id}/log`, target: "_blank" }, "Log"));
  items.push(buttons, el("div", { class: "job-msg message error", role: "status" }));
  const item = el("li", { class: "job", id: `job-${job.id}`, "data-state": job.state }, items);
  return item;
}

/** What decides an item's buttons and messages; progress alone is updated in place. */
function shape(job) {
  return JSON.stringify([job.state, job.error, job.files]);
}

function paint(job) {
  const list = document.getElementById("job-list");
  const old = document.getElementById(`job-${job.id}`);
  if (old && old.dataset.shape === shape(job)) {
    // in place, so focus, an open log and the screen reader's position stay where they are
    const bar = old.querySelector("progress");
    const pct = Math.round(100 * (job.progress || 0));
    if (bar) bar.value = pct;
    const text = old.querySelector(".progress-text");
    if (text) text.textContent = `${pct}%${stageText(job)}`;
    return;
  }
  const item = render(job);
  item.dataset.shape = shape(job);
  if (old) {
    const focused = old.contains(document.activeElement) ? document.activeElement.textContent : null;
    item.querySelector("details")?.toggleAttribute("open", !!old.querySelector("details[open]"));
    old.replaceWith(item);
    if (focused) [...item.querySelectorAll("button, a")].find((b) => b.textContent === focused)?.focus();
  } else list.prepend(item);
  document.getElementById("jobs-empty").hidden = jobs.size > 0;
}

function update(job) {
  jobs.set(job.id, job);
  paint(job);
  follow();
}

/** Follow the newest unfinished jobs by server-sent events; the rest are polled. */
function follow() {
  const active = [...jobs.values()].filter((j) => !terminal(j.state)).sort((a, b) => b.created_at - a.created_at);
  const wanted = new Set(active.slice(0, MAX_STREAMS).map((j) => j.id));
  for (const [id, es] of streams) {
    if (!wanted.has(id)) {
      es.close();
      streams.delete(id);
    }
  }
  for (const id of wanted) if (!streams.has(id)) subscribe(id);
}

function subscribe(id) {
  const es = new EventSource(`${API}/jobs/${id}/events`);
  streams.set(id, es);
  const apply = (e) => {
    const job = jobs.get(id);
    if (!job) return;
    const data = JSON.parse(e.data);
    if (data.progress !== undefined) job.progress = data.progress;
    if (data.stage !== undefined) job.stage = data.stage;
    if (data.state) job.state = data.state;
    paint(job);
  };
  es.addEventListener("progress", apply);
  es.addEventListener("state", apply);
  es.addEventListener("end", async () => {
    es.close();
    streams.delete(id);
    try {
      update(await getJSON(`/jobs/${id}`)); // files and error come with the job itself
    } catch {
      // deleted meanwhile
    }
  });
}

async function refresh() {
  try {
    const page = await getJSON("/jobs?limit=50");
    const seen = new Set();
    for (const job of page.data.slice().reverse()) {
      seen.add(job.id);
      const known = jobs.get(job.id);
      // the stream is fresher than the poll for a followed job
      if (!known || !streams.has(job.id) || terminal(job.state)) {
        jobs.set(job.id, job);
        paint(job);
      }
    }
    for (const id of [...jobs.keys()]) {
      if (!seen.has(id)) {
        jobs.delete(id);
        document.getElementById(`job-${id}`)?.remove();
      }
    }
    const empty = document.getElementById("jobs-empty");
    empty.textContent = "No jobs yet: upload a clip above.";
    empty.hidden = jobs.size > 0;
    follow();
  } catch (err) {
    document.getElementById("jobs-empty").hidden = false;
    document.getElementById("jobs-empty").textContent = `Could not list jobs: ${err.text || err}`;
  }
}

export function initJobs() {
  document.addEventListener("job-created", (e) => update(e.detail));
}

export function showJobs(active) {
  clearInterval(pollTimer);
  if (!active) {
    for (const es of streams.values()) es.close();
    streams.clear();
    return;
  }
  refresh();
  pollTimer = setInterval(refresh, POLL_MS);
}
