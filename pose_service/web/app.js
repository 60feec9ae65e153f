// The page's router: `#/` shows upload and jobs, `#/jobs/<id>` the viewer of one finished job.

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

initUpload();
initJobs();
window.addEventListener("hashchange", route);
route();
