// Overview: every queue with its counts per state, throughput and failure rate over time, its live workers and
// what they run, the job types waiting that no live worker serves; Redis's memory and eviction policy.
// Live: the counts of the first few queues come from their event streams (once a second); the whole page is read
// again every REFRESH ms for the workers and the other queues.

import { api, live } from "../api.js";
import { throughputChart, CountsHistory } from "../chart.js";
import { h, STATES, STATE_LABEL, queueHref, jobHref, warning, ago } from "../ui.js";

/** Queues whose counts are followed live (each stream is one connection; browsers allow six per server). */
const LIVE_QUEUES = 3;
const REFRESH = 5000;

/** Counts history per queue, kept while the dashboard is open (the server may send stored history instead). */
const histories = new Map();

function historyOf(name) {
  if (!histories.has(name)) histories.set(name, new CountsHistory(60));
  return histories.get(name);
}

function countsTable(queue) {
  return h("table", { class: "counts" },
    h("caption", { class: "visually-hidden" }, `Jobs of ${queue.name} by state`),
    h("thead", {}, h("tr", {}, STATES.map((s) => h("th", { scope: "col" }, STATE_LABEL[s])))),
    h("tbody", {}, h("tr", {}, STATES.map((s) => h("td", {},
      h("a", { href: queueHref(queue.name, { state: s }), "data-queue": queue.name, "data-state": s },
        String(queue.counts[s])))))));
}

function chartOf(queue) {
  if (Array.isArray(queue.history) && queue.history.length) {
    return throughputChart(queue.history, "minute");
  }
  return throughputChart(historyOf(queue.name).points, "second");
}

function workersList(queue) {
  if (!queue.workers.length) return h("p", { class: "muted" }, "No live worker.");
  return h("ul", { class: "workers" }, queue.workers.map((w) => h("li", {},
    h("strong", {}, w.id), ` on ${w.host || "?"} (pid ${w.pid ?? "?"}), serving ${(w.types || []).join(", ") || "every type"}; `,
    w.jobs.length
      ? ["running ", w.jobs.map((j, n) => [n ? ", " : "",
        h("a", { href: jobHref(queue.name, j.id) }, `${j.type} #${j.id}`), ` (${j.progress ?? 0}%)`])]
      : "idle",
    h("span", { class: "muted" }, `; seen ${ago(w.last_seen)}`))));
}

function unservedWarning(queue) {
  const types = Object.entries(queue.unserved || {});
  if (!types.length) return null;
  const list = types.map(([t, n]) => `${t} (${n} waiting)`).join(", ");
  return warning(`no live worker serves ${list}: these jobs wait until a worker for their type starts.`);
}

function queueCard(queue) {
  return h("section", { class: "card", "aria-labelledby": `q-${queue.name}` },
    h("h2", { id: `q-${queue.name}` }, h("a", { href: queueHref(queue.name) }, queue.name),
      queue.paused ? h("span", { class: "badge paused" }, "paused") : null),
    countsTable(queue),
    h("div", { class: "chart-slot", "data-queue": queue.name,
      "data-stored": Array.isArray(queue.history) && queue.history.length ? "1" : null }, chartOf(queue)),
    unservedWarning(queue),
    h("h3", {}, `Live workers (${queue.workers.length})`),
    workersList(queue));
}

function redisBox(redis) {
  return h("section", { class: "card", "aria-labelledby": "redis" },
    h("h2", { id: "redis" }, "Redis"),
    h("dl", { class: "facts" },
      h("dt", {}, "Memory used"), h("dd", {}, redis.used_memory_human || "unknown"),
      h("dt", {}, "maxmemory-policy"), h("dd", {}, h("code", {}, redis.maxmemory_policy))),
    redis.warning ? warning(redis.warning) : h("p", { class: "ok" }, "OK: noeviction, Redis never deletes jobs to free memory."));
}

function draw(view, data) {
  view.replaceChildren(
    h("h1", {}, "Overview"),
    data.queues.length
      ? h("div", { class: "grid" }, data.queues.map(queueCard))
      : h("p", {}, "No queue yet: add a job and its queue appears here."),
    redisBox(data.redis));
}

/** Put fresh counts into the page without redrawing it. */
function updateCounts(view, name, counts) {
  for (const state of STATES) {
    const cell = view.querySelector(`a[data-queue="${CSS.escape(name)}"][data-state="${state}"]`);
    if (cell) cell.textContent = String(counts[state]);
  }
  const slot = view.querySelector(`.chart-slot[data-queue="${CSS.escape(name)}"]`);
  if (slot && !slot.dataset.stored) slot.replaceChildren(throughputChart(historyOf(name).points, "second"));
}

export async function render(view) {
  let data = await api("api/overview");
  draw(view, data);
  const stops = data.queues.slice(0, LIVE_QUEUES).map((queue) => live(queue.name, (message) => {
    if (message.event !== "counts") return;
    historyOf(queue.name).add(message.counts);
    updateCounts(view, queue.name, message.counts);
  }));
  const timer = setInterval(async () => {
    try {
      data = await api("api/overview");
      draw(view, data);
    } catch (error) {
      console.warn("queuekit: overview not refreshed", error);
    }
  }, REFRESH);
  return () => {
    clearInterval(timer);
    stops.forEach((stop) => stop());
  };
}
