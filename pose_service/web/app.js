// The page's router: `#/` shows upload and jobs, `#/jobs/<id>` the viewer of one finished job.

import { setToken } from "./api.js";
import { initJobs, showJobs } from "./jobs.js";
import { initUpload } from "./upload.js";

let viewer = null; // the open viewer's close()

async function route() {
  const match = location.hash.match(/^#\/jobs\/([A-Za-z0-9_-]+)/);
  const home = document.getElementById("home");
  const view = document.getElementById("viewer");
  if (viewer) {
    viewer();
    viewer = null;
  }
  if (match) {
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
