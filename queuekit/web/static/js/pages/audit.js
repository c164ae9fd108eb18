// Audit log: every action taken through the dashboard or the API (who, what, when, result), newest first, from
// every queue's log (each keeps its newest 1,000 entries in Redis).

import { api, q } from "../api.js";
import { h, time, queueHref } from "../ui.js";

const PER_QUEUE = 200;

function text(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export async function render(view) {
  const queues = await api("api/queues");
  const logs = await Promise.all(queues.map(async (queue) => {
    const page = await api(q(queue.name, `/audit?count=${PER_QUEUE}`));
    return page.entries.map((entry) => ({ ...entry, queue: queue.name }));
  }));
  const entries = logs.flat().sort((a, b) => b.at - a.at);
  view.replaceChildren(
    h("h1", {}, "Audit log"),
    h("p", { class: "muted" }, `The newest ${PER_QUEUE} actions of each queue, newest first.`),
    entries.length
      ? h("table", {},
        h("thead", {}, h("tr", {}, ["When", "Queue", "Who", "Action", "Target", "Result"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, entries.map((e) => h("tr", {},
          h("td", {}, time(e.at)), h("td", {}, h("a", { href: queueHref(e.queue) }, e.queue)),
          h("td", {}, e.who), h("th", { scope: "row" }, e.action), h("td", {}, h("code", {}, text(e.target))),
          h("td", {}, text(e.result))))))
      : h("p", {}, "No action has been taken yet."));
}
