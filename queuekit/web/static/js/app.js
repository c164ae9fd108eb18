// The dashboard: a single page with hash routes. Each page is a module whose render(view, route) fills <main> and
// may answer a function that stops what it started (live streams, timers) when another page is opened.
//
//   #/                          overview: every queue, Redis's memory
//   #/workers                   live workers and what they run
//   #/audit                     the audit log of every queue
//   #/queue/NAME?state=&type=   one queue: jobs by state and type, search, failures by error, actions
//   #/queue/NAME/job/ID         one job: data, options, progress, result, attempts, log, timeline

import { getConfig, readOnly } from "./api.js";
import { h } from "./ui.js";
import * as overview from "./pages/overview.js";
import * as workers from "./pages/workers.js";
import * as audit from "./pages/audit.js";
import * as queue from "./pages/queue.js";
import * as job from "./pages/job.js";

const view = document.getElementById("view");
let stop = null;

/** The route in the address's hash: {page, params, query}. */
function parse(hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(search));
  if (parts[0] === "queue" && parts.length === 4 && parts[2] === "job") {
    return { page: job, params: { queue: parts[1], id: parts[3] }, query };
  }
  if (parts[0] === "queue" && parts.length === 2) return { page: queue, params: { queue: parts[1] }, query };
  if (parts[0] === "workers") return { page: workers, params: {}, query };
  if (parts[0] === "audit") return { page: audit, params: {}, query };
  return { page: overview, params: {}, query };
}

async function show() {
  if (stop) stop();
  stop = null;
  const route = parse(location.hash);
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    stop = (await route.page.render(view, route)) || null;
  } catch (error) {
    view.replaceChildren(h("h1", {}, "Could not load this page"), h("p", { role: "alert" }, error.message));
  }
  document.querySelectorAll("nav a").forEach((a) => {
    const current = a.getAttribute("href") === (location.hash || "#/").split("?")[0];
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
}

async function start() {
  try {
    await getConfig();
  } catch (error) {
    view.replaceChildren(h("h1", {}, "The dashboard's server did not answer"), h("p", { role: "alert" }, error.message));
    return;
  }
  document.getElementById("mode").textContent = readOnly() ? "Read-only: no action can be taken" : "";
  window.addEventListener("hashchange", show);
  await show();
}

start();
