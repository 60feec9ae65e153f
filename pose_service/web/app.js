// The page's router: `#/` shows upload and jobs, `#/jobs/<id>` the viewer of one finished job, `#/riders` and
// `#/riders/<name>` the riders and one rider's history, `#/compare/<JOB:N>/<JOB:N>` two jumps side by side,
// `#/shared/<token>` a read-only link (a result or a comparison) that needs no access token.

import { getJSON, setToken } from "./api.js";
import { initJobs, showJobs } from "./jobs.js";
import { initUpload } from "./upload.js";

let viewer = null; // the open viewer's close()

/** The view of a hash other than a job's (riders, compare, shared), or null. */
async function otherView(view) {
  let m = location.hash.match(/^#\/riders\/?$/);
  if (m) return (await import("./riders.js")).openRiders(view);
  m = location.hash.match(/^#\/riders\/(.+)$/);
  if (m) return (await import("./riders.js")).openRider(view, decodeURIComponent(m[1]));
  m = location.hash.match(/^#\/compare\/([0-9a-f]{32}:\d+)\/([0-9a-f]{32}:\d+)/);
  if (m) return (await import("./compare.js")).openCompare(view, m[1], m[2]);
  m = location.hash.match(/^#\/shared\/([A-Za-z0-9_-]+)/);
  if (!m) return null;
  const base = `/shared/${m[1]}`;
  try {
    const share = await getJSON(base);
    if (share.kind === "compare") {
      return (await import("./compare.js")).openCompare(view, share.compare.a.ref, share.compare.b.ref,
        { base, compare: share.compare });
    }
    return (await import("./viewer.js")).openViewer(view, share.jobs[0].id, { base });
  } catch (err) {
    view.replaceChildren(Object.assign(document.createElement("p"), { className: "message error card",
      textContent: err.text || String(err) }));
    return () => {};
  }
}

async function route() {
  const match = location.hash.match(/^#\/jobs\/([A-Za-z0-9_-]+)/);
  const other = /^#\/(riders|compare|shared)(\/|$)/.test(location.hash);
  const home = document.getElementById("home");
  const view = document.getElementById("viewer");
  if (viewer) {
    viewer();
    viewer = null;
  }
  if (other) {
    home.hidden = true;
    showJobs(false);
    view.hidden = false;
    viewer = await otherView(view);
  } else if (match) {
    home.hidden = true;
    showJobs(false);
    view.hidden = false;
    const { openViewer } = await import("./viewer.js"); // three.js and uPlot load only for the viewer
    viewer = await openViewer(view, match[1]);
  } else {
    view.hidden = true;
    view.replaceChildren();
    home.hidden = false;
    showJobs(true);
  }
}

// A server with an access token answers 401 until the page has it: ask once, keep it as a cookie, start again.
let triedToken = false;
document.addEventListener("need-token", () => {
  const box = document.getElementById("auth");
  const input = document.getElementById("auth-token");
  box.hidden = false;
  document.getElementById("auth-message").textContent = triedToken ? "That token was not accepted." : "";
  if (document.activeElement !== input) input.focus();
});
document.getElementById("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  triedToken = true;
  setToken(document.getElementById("auth-token").value.trim());
  document.getElementById("auth").hidden = true;
  route();
});

initUpload();
initJobs();
window.addEventListener("hashchange", route);
route();
