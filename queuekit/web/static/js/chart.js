// A small line chart in inline SVG: completed and failed jobs per bucket. Each series is drawn with its own stroke
// style (solid, dashed) and named in a legend, so the chart does not rely on colour alone.

import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/**
 * points: [{at, completed, failed}], oldest first. unit: what one bucket is ("second", "minute").
 * Answers a <figure> with the chart and a caption giving the totals and the failure rate.
 */
export function throughputChart(points, unit) {
  const width = 320;
  const height = 80;
  const top = Math.max(1, ...points.map((p) => Math.max(p.completed, p.failed)));
  const x = (i) => (points.length < 2 ? 0 : (i / (points.length - 1)) * width);
  const y = (v) => height - (v / top) * (height - 4) - 2;
  const line = (key) => points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
  const done = points.reduce((n, p) => n + p.completed, 0);
  const failed = points.reduce((n, p) => n + p.failed, 0);
  const rate = done + failed ? ((100 * failed) / (done + failed)).toFixed(1) : "0.0";
  if (points.length < 2) {
    return h("figure", { class: "throughput" }, h("figcaption", {},
      `Throughput and failure rate appear here: sampled every ${unit} while this page is open.`));
  }
  const summary = `${done} completed and ${failed} failed over the last ${points.length} ${unit}s; failure rate ${rate}%`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": summary });
  chart.append(svg("line", { x1: 0, y1: height - 1, x2: width, y2: height - 1, class: "axis" }));
  chart.append(svg("polyline", { points: line("completed"), class: "series-completed" }));
  chart.append(svg("polyline", { points: line("failed"), class: "series-failed" }));
  return h("figure", { class: "throughput" },
    chart,
    h("figcaption", {},
      h("span", { class: "key key-completed" }, "completed"), " ",
      h("span", { class: "key key-failed" }, "failed"),
      ` per ${unit} (peak ${top}). ${summary}.`));
}

/**
 * Turns the counts messages of the live stream into buckets: the jobs completed and failed between two messages.
 * Used when the server sends no stored history; keeps the last `keep` buckets.
 */
export class CountsHistory {
  constructor(keep = 60) {
    this.keep = keep;
    this.points = [];
    this.last = null;
  }

  add(counts, at = Date.now()) {
    if (this.last !== null) {
      this.points.push({
        at,
        completed: Math.max(0, counts.complete - this.last.complete),
        failed: Math.max(0, counts.failed - this.last.failed),
      });
      if (this.points.length > this.keep) this.points.shift();
    }
    this.last = { complete: counts.complete, failed: counts.failed };
  }
}
