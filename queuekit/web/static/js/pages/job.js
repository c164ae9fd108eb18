// One job: its timeline (created, started, finished), progress, data, options, result, every failed attempt with
// its error and traceback, and its log lines; retry, promote, remove, change priority. Live: the job is read again
// when the event stream says something happened to it.

import { api, q, live, readOnly } from "../api.js";
import { h, badge, time, duration, json, action, toast, queueHref } from "../ui.js";

const PRIORITIES = { critical: -15, high: -10, medium: -5, normal: 0, low: 10 };

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function timeline(job) {
  return facts([
    ["Created", time(job.created_at)],
    job.promote_at ? ["Due", time(job.promote_at)] : null,
    ["Started", time(job.started_at)],
    [job.state === "failed" ? "Failed" : "Finished", time(job.finished_at)],
    ["Ran for", duration(job.duration)],
    ["Last update", time(job.updated_at)],
  ].filter(Boolean));
}

function options(job) {
  return facts([
    ["Priority", String(job.priority)],
    ["Attempts", `${job.attempts.made} made, ${job.attempts.remaining} remaining, ${job.attempts.max} at most`],
    ["Delay", duration(job.delay)],
    ["Backoff", job.backoff === null ? "—" : JSON.stringify(job.backoff)],
    ["Time to live", duration(job.ttl)],
    ["Remove on complete", job.removeOnComplete ? "yes" : "no"],
    ["Stalls", String(job.stalls)],
    ["Worker", job.workerId || "—"],
  ]);
}

function attempts(job) {
  const list = job.failed_attempts || [];
  if (!list.length) return h("p", { class: "muted" }, "No failed attempt.");
  return h("ol", { class: "attempts" }, list.map((a) => h("li", {},
    h("p", {}, h("strong", {}, `Attempt ${a.attempt ?? "?"}`), ` (${a.kind || "error"}) at `, time(a.at), ": ",
      h("code", { class: "error" }, a.error || "")),
    a.traceback ? h("details", { open: true }, h("summary", {}, "Traceback"), h("pre", { class: "traceback" }, a.traceback))
      : null)));
}

function actions(queue, job, redraw) {
  if (readOnly()) return null;
  const path = (p) => q(queue, `/job/${encodeURIComponent(job.id)}${p}`);
  const names = Object.entries(PRIORITIES);
  if (!names.some(([, n]) => n === job.priority)) names.push([String(job.priority), job.priority]);
  const priority = h("select", { id: "priority", name: "priority" },
    names.map(([name, n]) => h("option", { value: name, selected: n === job.priority }, `${name} (${n})`)));
  const done = async (answer) => { toast(answer.message); await redraw(); };
  return h("div", { class: "toolbar" },
    job.state === "failed" ? action("Retry", async () => done(await api(path("/retry"), { method: "POST" }))) : null,
    job.state === "delayed" ? action("Promote", async () => done(await api(path("/promote"), { method: "POST" }))) : null,
    action("Remove", async () => {
      toast((await api(path(""), { method: "DELETE" })).message);
      location.hash = queueHref(queue, { state: job.state });
    }, { danger: true, confirmText: `Remove job ${job.id}?` }),
    h("span", { class: "inline" }, h("label", { for: "priority" }, "Priority "), priority, " ",
      action("Change priority", async () => done(await api(path(`/priority/${priority.value}`), { method: "PUT" })))));
}

function section(title, ...content) {
  const id = `h-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

async function draw(view, queue, id) {
  const path = q(queue, `/job/${encodeURIComponent(id)}`);
  const [job, log] = await Promise.all([api(path), api(`${path}/log`)]);
  const redraw = () => draw(view, queue, id);
  view.replaceChildren(
    h("p", { class: "crumbs" }, h("a", { href: queueHref(queue) }, `Queue ${queue}`), " / ",
      h("a", { href: queueHref(queue, { state: job.state }) }, badge(job.state))),
    h("h1", {}, `Job #${job.id} `, h("code", {}, job.type), " ", badge(job.state)),
    actions(queue, job, redraw),
    job.error ? h("p", { class: "error-line" }, h("strong", {}, "Error: "), h("code", {}, job.error)) : null,
    h("div", { class: "columns" },
      section("Timeline", timeline(job)),
      section("Progress", h("progress", { max: 100, value: job.progress || 0, "aria-label": "progress" }),
        ` ${job.progress || 0}%`, job.progress_data !== null ? json(job.progress_data) : null),
      section("Options", options(job))),
    section("Data", json(job.data)),
    section("Result", job.result === null ? h("p", { class: "muted" }, "None yet.") : json(job.result)),
    section(`Attempts (${(job.failed_attempts || []).length} failed)`, attempts(job)),
    section(`Log (${log.length} line${log.length === 1 ? "" : "s"})`, log.length ? h("ol", { class: "log" }, log.map((line) => h("li", {}, h("code", {}, line))))
      : h("p", { class: "muted" }, "No log line.")));
}

export async function render(view, route) {
  const { queue, id } = route.params;
  await draw(view, queue, id);
  // one reload at a time; an event heard during one asks for another after it, so the last state is always shown
  let busy = false;
  let again = false;
  const reload = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        await draw(view, queue, id);
      } while (again);
    } catch (error) {
      console.warn("queuekit: job not reloaded", error);
    } finally {
      busy = false;
    }
  };
  let counts = null;
  return live(queue, (message) => {
    if (message.event === "counts") {
      // the queue's counts moved: read the job again too, in case one of its own events was missed (a stream
      // only hears what happens after it connected)
      const moved = counts !== null && JSON.stringify(counts) !== JSON.stringify(message.counts);
      counts = message.counts;
      if (moved) reload();
      return;
    }
    if (String(message.id) !== String(id)) return;
    if (message.event === "job remove") view.prepend(h("p", { role: "alert" }, "This job was removed."));
    else reload();
  });
}
