// Workers: every live worker of every queue, what it serves and what it runs now. Read again every REFRESH ms.

import { api } from "../api.js";
import { h, jobHref, queueHref, ago, time } from "../ui.js";

const REFRESH = 3000;

function rows(queue) {
  return queue.workers.map((w) => h("tr", {},
    h("td", {}, h("a", { href: queueHref(queue.name) }, queue.name)),
    h("th", { scope: "row" }, h("code", {}, w.id)),
    h("td", {}, `${w.host || "?"} / ${w.pid ?? "?"}`),
    h("td", {}, (w.types || []).join(", ") || "every type"),
    h("td", {}, `${w.jobs.length} of ${w.concurrency ?? "?"}`),
    h("td", {}, w.jobs.length
      ? h("ul", { class: "plain" }, w.jobs.map((j) => h("li", {},
        h("a", { href: jobHref(queue.name, j.id) }, `${j.type} #${j.id}`),
        ` ${j.progress ?? 0}%, started `, time(j.started_at))))
      : "idle"),
    h("td", {}, ago(w.last_seen))));
}

function draw(view, data) {
  const all = data.queues.flatMap(rows);
  view.replaceChildren(
    h("h1", {}, "Workers"),
    all.length
      ? h("table", {},
        h("caption", {}, `${all.length} live worker${all.length === 1 ? "" : "s"}`),
        h("thead", {}, h("tr", {}, ["Queue", "Worker", "Host / pid", "Serves", "Busy", "Running", "Last heartbeat"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, all))
      : h("p", {}, "No live worker. Start one with ", h("code", {}, "queuekit worker"), "."));
}

export async function render(view) {
  draw(view, await api("api/overview"));
  const timer = setInterval(async () => {
    try {
      draw(view, await api("api/overview"));
    } catch (error) {
      console.warn("queuekit: workers not refreshed", error);
    }
  }, REFRESH);
  return () => clearInterval(timer);
}
