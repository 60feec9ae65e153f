// Angle plots (uPlot): the rider's angles over time, jumps shaded, a playhead that follows the video, and a
// click that seeks.

import uPlot from "./vendor/uplot/uPlot.esm.js";

const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324",
  "#000075", "#808000", "#469990", "#800000"];
const SHOWN = new Set(["left_knee", "right_knee", "left_hip", "right_hip", "trunk_lean"]);
const HEIGHT = 240;

function jumpBands(jumps) {
  return {
    hooks: {
      drawClear: (u) => {
        const { ctx } = u;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.fillStyle = "rgba(255, 106, 0, 0.14)";
        for (const j of jumps) {
          const x0 = u.valToPos(j.takeoff_s, "x", true);
          const x1 = u.valToPos(j.landing_s, "x", true);
          ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
        }
        ctx.restore();
      },
    },
  };
}

export class AnglePlot {
  /** box: container; angles: analysis.angles ({names, values}); times: timestamps_s; seek(t) on click. */
  constructor(box, angles, times, jumps, seek) {
    this.box = box;
    const names = angles.names;
    const data = [times, ...angles.values.map((v) => v.map((x) => (x === null ? null : x)))];
    const opts = {
      width: Math.max(280, box.clientWidth),
      height: HEIGHT,
      scales: { x: { time: false } },
      axes: [{ label: "time (s)" }, { label: "degrees" }],
      series: [
        { label: "time (s)", value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
        ...names.map((name, i) => ({
          label: name.replaceAll("_", " "),
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          show: SHOWN.has(name),
          spanGaps: false,
          value: (u, v) => (v == null ? "–" : `${v.toFixed(0)}°`),
        })),
      ],
      cursor: { drag: { x: false, y: false } },
      plugins: [jumpBands(jumps)],
    };
    this.plot = new uPlot(opts, data, box);
    this.head = document.createElement("div");
    this.head.className = "plot-head";
    this.plot.over.append(this.head);
    this.plot.over.addEventListener("click", (e) => {
      const x = e.clientX - this.plot.over.getBoundingClientRect().left;
      seek(this.plot.posToVal(x, "x"));
    });
    this.plot.over.title = "Click to move the video here";
    this.headX = NaN;
    this.resizer = new ResizeObserver(() => {
      const w = Math.max(280, box.clientWidth);
      if (w !== this.plot.width) this.plot.setSize({ width: w, height: HEIGHT });
      this.setTime(this.time || 0);
    });
    this.resizer.observe(box);
  }

  /** Move the playhead to media time t (and the legend's values to frame `frame`, when given). */
  setTime(t, frame) {
    this.time = t;
    if (frame !== undefined && frame >= 0 && frame !== this.frame) {
      this.frame = frame;
      this.plot.setLegend({ idx: frame });
    }
    const x = this.plot.valToPos(t, "x");
    if (!Number.isFinite(x)) return;
    this.headX = x;
    this.head.style.left = `${x}px`;
  }

  dispose() {
    this.resizer.disconnect();
    this.plot.destroy();
  }
}
