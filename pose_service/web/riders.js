// Riders: the list of riders, and one rider's history: every analysed jump by date, the best values, a plot
// of a measure over time, and two jumps picked to compare.

import { ApiError, el, getJSON } from "./api.js";

const MEASURES = { air_time_s: ["air time", "s"], height_m: ["hip height", "m"], spin_deg: ["spin", "°"],
  flip_deg: ["flip", "°"], grade: ["landing grade", "/10"] };

function value(v, unit) {
  if (v === null || v === undefined) return "–";
  if (unit === "s" || unit === "m") return `${v.toFixed(2)} ${unit}`;
  if (unit === "/10") return `${v.toFixed(1)}/10`;
  return `${Math.round(v)}°`;
}

function failed(root, err) {
  root.replaceChildren(el("div", { class: "card" }, el("p", { class: "message error" },
    err instanceof ApiError ? err.text : String(err)), el("a", { href: "#/riders" }, "All riders")));
  return () => {};
}

/** `#/riders`: every rider with tagged jobs. */
export async function openRiders(root) {
  let riders;
  try {
    riders = await getJSON("/riders");
  } catch (err) {
    return failed(root, err);
  }
  root.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← Upload and jobs")),
    el("section", { class: "card", "aria-labelledby": "r-title" }, el("h1", { id: "r-title" }, "Riders"),
      riders.count ? el("ul", { class: "rider-list" }, riders.data.map((r) => el("li", {},
        el("a", { href: `#/riders/${encodeURIComponent(r.name)}` }, r.name),
        el("span", { class: "muted" }, ` · ${r.jobs} ${r.jobs === 1 ? "run" : "runs"}, last ${new Date(r.last_job_at * 1000).toLocaleDateString()}`))))
        : el("p", { class: "empty-state" }, "No riders yet: type a rider's name when uploading a run.")));
  return () => {};
}

/** `#/riders/<name>`: the rider's jumps, best values, a plot over time, and a compare picker. */
export async function openRider(root, name) {
  let h;
  try {
    h = await getJSON(`/riders/${encodeURIComponent(name)}/jumps`);
  } catch (err) {
    return failed(root, err);
  }
  const picked = [];
  const compareBtn = el("button", { type: "button", disabled: true }, "Compare the two picked");
  const pickedNote = el("span", { class: "muted", "aria-live": "polite" }, "Pick two jumps.");
  const update = () => {
    compareBtn.disabled = picked.length !== 2;
    pickedNote.textContent = picked.length === 2 ? "A is the first picked, B the second."
      : `Pick ${2 - picked.length} more jump${picked.length === 1 ? "" : "s"}.`;
  };
  compareBtn.addEventListener("click", () => { location.hash = `#/compare/${picked[0]}/${picked[1]}`; });
  const rows = h.data.map((j) => {
    const box = el("input", { type: "checkbox", "aria-label": `Pick jump ${j.jump} of ${j.video_name}`, value: j.ref });
    box.addEventListener("change", () => {
      if (box.checked) picked.push(j.ref);
      else picked.splice(picked.indexOf(j.ref), 1);
      while (picked.length > 2) {
        const first = picked.shift();
        const other = rowsBox.querySelector(`input[value="${first}"]`);
        if (other) other.checked = false;
      }
      update();
    });
    return el("tr", { "data-ref": j.ref }, el("td", {}, box), el("td", {}, new Date(j.created_at * 1000).toLocaleString()),
      el("td", {}, el("a", { href: `#/jobs/${j.job_id}` }, j.video_name), j.jump > 1 ? ` #${j.jump}` : ""),
      el("td", {}, j.trick), el("td", { class: "num" }, value(j.air_time_s, "s")),
      el("td", { class: "num" }, value(j.height_m, "m")), el("td", { class: "num" }, value(j.grade, "/10")));
  });
  const rowsBox = el("tbody", {}, rows);
  const best = el("div", { class: "best" }, Object.entries(MEASURES).filter(([k]) => h.best[k]).map(([k, [label, unit]]) =>
    el("div", { class: "best-item" }, el("span", { class: "muted" }, `best ${label}`), el("strong", {}, value(h.best[k].value, unit)))));
  const plotBox = el("div", { class: "plot" });
  const measure = el("select", { "aria-label": "Measure plotted" },
    Object.entries(MEASURES).map(([k, [label]]) => el("option", { value: k }, label)));
  root.replaceChildren(el("p", {}, el("a", { href: "#/riders" }, "← Riders")),
    el("section", { class: "card", "aria-labelledby": "h-title" }, el("h1", { id: "h-title" }, h.rider),
      el("p", { class: "muted" }, `${h.count} ${h.count === 1 ? "jump" : "jumps"} in ${h.jobs} ${h.jobs === 1 ? "run" : "runs"}`),
      best),
    el("section", { class: "card", "aria-labelledby": "h-plot" }, el("h2", { id: "h-plot" }, "Over time"), measure, plotBox),
    el("section", { class: "card", "aria-labelledby": "h-jumps" }, el("h2", { id: "h-jumps" }, "Every jump"),
      el("div", { class: "table-wrap" }, el("table", { class: "history" },
        el("thead", {}, el("tr", {}, ["", "date", "run", "trick", "air", "height", "landing"].map((t) => el("th", { scope: "col" }, t)))),
        rowsBox)),
      el("div", { class: "buttons" }, compareBtn, pickedNote)));
  let plot = null;
  const draw = async () => {
    if (plot) plot.destroy();
    plotBox.replaceChildren();
    const key = measure.value;
    const points = h.data.filter((j) => j[key] !== null && j[key] !== undefined);
    if (!points.length) {
      plotBox.append(el("p", { class: "empty-state" }, "Not measured in any jump."));
      return;
    }
    const { default: uPlot } = await import("./vendor/uplot/uPlot.esm.js");
    const [label, unit] = MEASURES[key];
    // jumps of one run share its date: spread them a second apart so every point shows
    const xs = points.map((j) => j.created_at + j.jump - 1);
    plot = new uPlot({ width: Math.max(280, plotBox.clientWidth), height: 200,
      series: [{}, { label, stroke: "#ff6a00", width: 2, points: { size: 8 }, value: (u, v) => value(v, unit) }],
      axes: [{}, { label: `${label} (${unit})` }] }, [xs, points.map((j) => j[key])], plotBox);
  };
  measure.addEventListener("change", draw);
  await draw();
  return () => { if (plot) plot.destroy(); };
}
