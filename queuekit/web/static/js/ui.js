// Small helpers shared by the pages: building elements (text is always set as text, never parsed as HTML),
// formatting times and numbers, state badges, action buttons (none in read-only mode) and messages.

import { readOnly } from "./api.js";

/** An element: h("a", {href: "#/"}, "text", child, ...). Attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** The states in the order the pages show them, with the words they are shown with. */
export const STATES = ["inactive", "active", "delayed", "complete", "failed"];
export const STATE_LABEL = { inactive: "waiting", active: "active", delayed: "delayed", complete: "complete",
  failed: "failed" };

/** A job's state as a badge: its word (never only a colour). */
export function badge(state) {
  return h("span", { class: `badge state-${state}` }, STATE_LABEL[state] || state || "unknown");
}

export function time(ms) {
  if (!ms) return "—";
  const d = new Date(ms);
  return h("time", { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

export function ago(ms) {
  if (!ms) return "—";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function json(value) {
  return h("pre", { class: "json" }, value === undefined ? "—" : JSON.stringify(value, null, 2));
}

/** A button that runs `action` (an async function); null in read-only mode, so no action is ever shown. */
export function action(label, run, { danger = false, confirmText = null, title = null } = {}) {
  if (readOnly()) return null;
  const button = h("button", { type: "button", class: danger ? "danger" : "", title }, label);
  button.addEventListener("click", async () => {
    if (confirmText && !window.confirm(confirmText)) return;
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      toast(`${label} failed: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

let toastTimer = null;

/** A short message in the live region at the bottom of the page. */
export function toast(text, isError = false) {
  const el = document.getElementById("toast");
  el.textContent = isError ? `Error: ${text}` : text;
  el.className = `toast shown${isError ? " error" : ""}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = "toast"; }, 5000);
}

/** A warning box: the word "Warning" and the text (role=alert is kept for errors). */
export function warning(text) {
  return h("p", { class: "warning" }, h("strong", {}, "Warning: "), text);
}

export function jobHref(queue, id) {
  return `#/queue/${encodeURIComponent(queue)}/job/${encodeURIComponent(id)}`;
}

export function queueHref(queue, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  const rest = search.toString();
  return `#/queue/${encodeURIComponent(queue)}${rest ? `?${rest}` : ""}`;
}

/** A call that waits `ms` after its last request before running `fn` (live events reload at most this often). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
