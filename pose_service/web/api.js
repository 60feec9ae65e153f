// The HTTP API at api/v1 (relative, so the page also works behind a path prefix): JSON with readable errors.

export const API = new URL("api/v1/", document.baseURI).pathname.replace(/\/$/, "");

/** An error carrying the API's own message and hint (`{"error": {"code", "message", "hint"}}`). */
export class ApiError extends Error {
  constructor(status, code, message, hint = "") {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
  get text() {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** The API's error of a response body (text), or a plain description when the body is not one. */
export function errorOf(status, body, fallback = "") {
  try {
    const e = JSON.parse(body).error;
    if (e && e.message) return new ApiError(status, e.code || "", e.message, e.hint || "");
  } catch {
    // not JSON: fall through
  }
  const what = fallback || (status ? `the server answered ${status}` : "the server could not be reached");
  return new ApiError(status, "http", what, status ? "" : "check the connection and try again");
}

export async function request(path, options = {}) {
  let resp;
  try {
    resp = await fetch(API + path, options);
  } catch {
    throw errorOf(0, "", "");
  }
  if (!resp.ok) {
    if (resp.status === 401) needToken();
    throw errorOf(resp.status, await resp.text());
  }
  return resp;
}

export async function getJSON(path) {
  return (await request(path)).json();
}

export async function postJSON(path, body) {
  const init = { method: "POST" };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  return (await request(path, init)).json();
}

/** A job's file; `base` is "/shared/<token>" when the page was opened through a share link. */
export function fileURL(jobId, name, base = "") {
  return `${API}${base}/jobs/${encodeURIComponent(jobId)}/${name}`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(s) {
  if (!Number.isFinite(s) || s < 0) return "–";
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A DOM element: el("div", {class: "x", onclick: f}, child, "text", ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// The server's access token travels as a cookie (see TOKEN_COOKIE in pose_service/api/app.py), so that the
// video, the event streams and the download links carry it too.
const TOKEN_COOKIE = "pose_service_token";

/** Ask for the access token (the server answered 401). */
export function needToken() {
  document.dispatchEvent(new CustomEvent("need-token"));
}

export function setToken(token) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; path=/; max-age=${30 * 86400}; SameSite=Strict${secure}`;
}
