// One queue: jobs by state and type, paged, in line order (newest or oldest first) or by priority; a search by
// id, type, error or data text; failures grouped by error; pause/resume, clean a state, bulk retry/remove of a
// selection or of a search result. Live: counts, progress and new failures arrive through the event stream.

import { api, q, live, readOnly } from "../api.js";
import { h, STATES, STATE_LABEL, badge, time, ago, action, toast, jobHref, queueHref, debounce } from "../ui.js";

const PAGE = 20;

/** The page's settings, from the hash's query (so a view can be bookmarked and the back button works). */
function settings(route) {
  const query = route.query;
  return {
    queue: route.params.queue,
    state: STATES.includes(query.state) ? query.state : "inactive",
    type: query.type || "",
    from: Math.max(0, parseInt(query.from || "0", 10) || 0),
    order: query.order === "asc" ? "asc" : "desc",
    sort: query.sort === "priority" ? "priority" : "time",
    q: query.q || "",
  };
}

function go(s, changes) {
  const next = { ...s, ...changes };
  const hash = queueHref(next.queue, { state: next.state, type: next.type, from: next.from || "",
    order: next.order === "desc" ? "" : next.order, sort: next.sort === "time" ? "" : next.sort, q: next.q });
  if (hash === location.hash) window.dispatchEvent(new HashChangeEvent("hashchange"));  // the same view: redraw it
  else location.hash = hash;
}

function progressCell(job) {
  return h("td", { "data-progress": job.id },
    h("progress", { max: 100, value: job.progress || 0, "aria-label": `progress of job ${job.id}` }),
    ` ${job.progress || 0}%`);
}

/** A table of jobs; with `selected` (a Set of ids), a checkbox per row (none in read-only mode). */
function jobsTable(queue, jobs, selected, caption) {
  const picking = selected && !readOnly();
  const head = ["Job", "Type", "State", "Priority", "Progress", "Created", "Error"];
  return h("table", { class: "jobs" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, picking ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Select")) : null,
      head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, jobs.map((job) => h("tr", { "data-id": job.id },
      picking ? h("td", {}, h("input", { type: "checkbox", "aria-label": `select job ${job.id}`,
        checked: selected.has(String(job.id)),
        onchange: (e) => (e.target.checked ? selected.add(String(job.id)) : selected.delete(String(job.id))) })) : null,
      h("th", { scope: "row" }, h("a", { href: jobHref(queue, job.id) }, `#${job.id}`)),
      h("td", {}, job.type), h("td", {}, badge(job.state)), h("td", {}, String(job.priority)),
      progressCell(job), h("td", {}, time(job.created_at)),
      h("td", { class: "error-cell" }, job.error || "")))));
}

function sorted(jobs, s) {
  if (s.sort !== "priority") return jobs;
  return [...jobs].sort((a, b) => a.priority - b.priority || (a.created_at || 0) - (b.created_at || 0));
}

async function loadJobs(s) {
  const to = s.from + PAGE - 1;
  const prefix = s.type ? `/jobs/${encodeURIComponent(s.type)}/${s.state}` : `/jobs/${s.state}`;
  return api(q(s.queue, `${prefix}/${s.from}..${to}/${s.order}`));
}

function stateTabs(s, counts) {
  return h("nav", { "aria-label": "Job states", class: "tabs" }, h("ul", {}, STATES.map((state) => h("li", {},
    h("a", { href: queueHref(s.queue, { state, type: s.type }), "aria-current": state === s.state ? "page" : null },
      `${STATE_LABEL[state]} `, h("span", { class: "count", "data-state": state }, String(counts[state])))))));
}

function filters(s, types) {
  const select = (label, name, options, value) => h("label", {}, `${label} `,
    h("select", { name, onchange: (e) => go(s, { [name]: e.target.value, from: 0 }) },
      options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
  return h("div", { class: "filters" },
    select("Type", "type", [["", "every type"], ...types.map((t) => [t, t])], s.type),
    select("Order", "order", [["desc", "newest first"], ["asc", "oldest first"]], s.order),
    select("Sort this page by", "sort", [["time", "time"], ["priority", "priority"]], s.sort));
}

function pager(s, total) {
  const last = Math.max(0, total - 1);
  return h("p", { class: "pager" },
    s.from > 0 ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); go(s, { from: Math.max(0, s.from - PAGE) }); } }, "← Previous page") : null,
    ` Jobs ${total ? s.from + 1 : 0}–${Math.min(total, s.from + PAGE)} of ${total} `,
    s.from + PAGE <= last ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); go(s, { from: s.from + PAGE }); } }, "Next page →") : null);
}

function bulkBar(s, selected, reload) {
  const ids = () => [...selected];
  const run = (verb) => async () => {
    if (!selected.size) { toast("Select jobs first"); return; }
    const answer = await api(q(s.queue, `/jobs/${verb}`), { method: "POST", body: { ids: ids() } });
    toast(answer.message);
    selected.clear();
    await reload();
  };
  const clean = ["complete", "failed"].includes(s.state)
    ? action(`Clean all ${STATE_LABEL[s.state]}`, async () => {
      const answer = await api(q(s.queue, `/jobs/${s.state}`), { method: "DELETE" });
      toast(answer.message);
      await reload();
    }, { danger: true, confirmText: `Remove every ${s.state} job of ${s.queue}?` })
    : null;
  const buttons = [
    s.state === "failed" ? action("Retry selected", run("retry")) : null,
    action("Remove selected", run("remove"), { danger: true, confirmText: "Remove the selected jobs?" }),
    clean,
  ].filter(Boolean);
  return buttons.length ? h("div", { class: "toolbar" }, buttons) : null;
}

// ---- search ---------------------------------------------------------------------------------------------------

function searchSection(s) {
  const results = h("div", { class: "results" });
  const form = h("form", { role: "search", class: "search" },
    h("label", { for: "search-q" }, "Search jobs by id, type, error or data text "),
    h("input", { id: "search-q", name: "q", type: "search", value: s.q, required: true }),
    h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = form.elements.q.value.trim();
    if (text) go(s, { q: text, from: s.from });
  });
  if (s.q) runSearch(s, results).catch((error) => results.replaceChildren(h("p", { role: "alert" }, error.message)));
  return h("section", { "aria-labelledby": "search-h" }, h("h2", { id: "search-h" }, "Search"), form, results);
}

async function runSearch(s, results) {
  const found = [];
  const more = async (cursor) => {
    const page = await api(q(s.queue, `/search?q=${encodeURIComponent(s.q)}&cursor=${cursor}&count=50`));
    found.push(...page.jobs);
    const bulk = (verb) => action(verb === "retry" ? "Retry every match" : "Remove every match", async () => {
      const answer = await api(q(s.queue, `/jobs/${verb}`), { method: "POST", body: { search: s.q } });
      toast(answer.message);
      go(s, {});
    }, { danger: verb === "remove", confirmText: verb === "remove" ? `Remove every job matching "${s.q}"?` : null });
    results.replaceChildren(
      h("p", { "aria-live": "polite" }, `${found.length} job${found.length === 1 ? "" : "s"} match "${s.q}"${page.cursor ? " so far" : ""}.`),
      found.length ? jobsTable(s.queue, found, null, `Jobs matching "${s.q}"`) : null,
      page.cursor ? h("button", { type: "button", onclick: () => more(page.cursor) }, "More results") : null,
      found.length ? h("div", { class: "toolbar" }, bulk("retry"), bulk("remove")) : null);
  };
  await more(0);
}

// ---- failures grouped by error --------------------------------------------------------------------------------

async function failuresSection(s, slot) {
  const groups = await api(q(s.queue, "/failures"));
  const groupAction = (group, verb) => action(verb === "retry" ? "Retry group" : "Remove group", async () => {
    const answer = await api(q(s.queue, `/failures/${encodeURIComponent(group.key)}/${verb}`), { method: "POST" });
    toast(answer.message);
    await failuresSection(s, slot);
  }, { danger: verb === "remove", confirmText: verb === "remove" ? `Remove all ${group.count} jobs failed with this error?` : null });
  slot.replaceChildren(
    h("h2", { id: "failures-h" }, "Failures by error"),
    groups.length
      ? h("table", { class: "failures" },
        h("thead", {}, h("tr", {}, ["Error", "Jobs", "First seen", "Last seen", "Types", readOnly() ? null : "Actions"]
          .filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, groups.map((g) => h("tr", {},
          h("th", { scope: "row" }, h("code", {}, g.error)), h("td", {}, String(g.count)),
          h("td", {}, time(g.first_seen)), h("td", {}, ago(g.last_seen)), h("td", {}, g.types.join(", ")),
          readOnly() ? null : h("td", {}, groupAction(g, "retry"), " ", groupAction(g, "remove"))))))
      : h("p", { class: "muted" }, "No failed job."));
}

// ---- the page -------------------------------------------------------------------------------------------------

export async function render(view, route) {
  const s = settings(route);
  const selected = new Set();
  const [info, types] = await Promise.all([api(q(s.queue, "/overview")), api(q(s.queue, "/job/types"))]);
  let counts = info.counts;
  const listSlot = h("div", {});
  const pagerSlot = h("div", {});
  const failuresSlot = h("section", { "aria-labelledby": "failures-h" });

  const total = async () => (s.type
    ? (await api(q(s.queue, `/jobs/${encodeURIComponent(s.type)}/${s.state}/stats`))).count : counts[s.state]);
  const reload = async () => {
    const [jobs, count] = await Promise.all([loadJobs(s).then((list) => sorted(list, s)), total()]);
    pagerSlot.replaceChildren(pager(s, count));
    listSlot.replaceChildren(
      jobs.length ? jobsTable(s.queue, jobs, selected, `${STATE_LABEL[s.state]} jobs${s.type ? ` of type ${s.type}` : ""}`)
        : h("p", { class: "muted" }, `No ${STATE_LABEL[s.state]} job${s.type ? ` of type ${s.type}` : ""}.`));
  };
  const both = () => Promise.all([reload(), failuresSection(s, failuresSlot)]);
  const pauseButton = info.paused
    ? action("Resume", async () => { toast((await api(q(s.queue, "/resume"), { method: "PUT" })).message); go(s, {}); })
    : action("Pause", async () => { toast((await api(q(s.queue, "/pause"), { method: "PUT" })).message); go(s, {}); });

  view.replaceChildren(
    h("h1", {}, `Queue ${s.queue} `, info.paused ? h("span", { class: "badge paused" }, "paused") : null),
    h("div", { class: "toolbar" }, pauseButton),
    stateTabs(s, info.counts),
    h("section", { "aria-labelledby": "jobs-h" },
      h("h2", { id: "jobs-h" }, `${STATE_LABEL[s.state]} jobs`),
      filters(s, types), pagerSlot, bulkBar(s, selected, both), listSlot),
    searchSection(s),
    failuresSlot);
  await both();

  const reloadSoon = debounce(() => reload().catch((e) => console.warn("queuekit: list not reloaded", e)), 1000);
  const failuresSoon = debounce(() => failuresSection(s, failuresSlot).catch((e) => console.warn(e)), 1000);
  return live(s.queue, (message) => {
    if (message.event === "counts") {
      if (message.counts.failed !== counts.failed) failuresSoon();  // a failure came or went: its group changed
      counts = message.counts;
      if (!s.type) pagerSlot.replaceChildren(pager(s, counts[s.state]));
      for (const state of STATES) {
        const el = view.querySelector(`.tabs .count[data-state="${state}"]`);
        if (el) el.textContent = String(message.counts[state]);
      }
      return;
    }
    if (message.event === "job progress") {
      const cell = view.querySelector(`td[data-progress="${CSS.escape(String(message.id))}"]`);
      const percent = Number(message.args[0]);
      if (cell && Number.isFinite(percent)) {
        cell.querySelector("progress").value = percent;
        cell.lastChild.textContent = ` ${percent}%`;
      }
      return;
    }
    reloadSoon();
  });
}
