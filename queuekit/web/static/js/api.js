// The JSON API, as the pages call it. The token the page was opened with (?token=...) is kept in memory only and
// sent with each call as "Authorization: Bearer"; the server also set a cookie from it, which the live stream uses
// (EventSource cannot send headers). The token is taken out of the address bar so it is not bookmarked or shared.

const params = new URLSearchParams(location.search);
const token = params.get("token");
if (token) {
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Call a route (a path relative to the page) and answer its JSON; an ApiError with the server's message if refused. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

/** The path of a route of one queue. */
export function q(queue, path) {
  return `api/queues/${encodeURIComponent(queue)}${path}`;
}

/** Listen to a queue's live stream; `onMessage` gets each JSON message. Answers a function that stops listening. */
export function live(queue, onMessage) {
  const source = new EventSource(q(queue, "/events"));
  // tells a reader (and the browser tests) that the page is listening: <html data-live="open">
  source.onopen = () => { document.documentElement.dataset.live = "open"; };
  source.onerror = () => { document.documentElement.dataset.live = "reconnecting"; };
  source.onmessage = (event) => {
    try {
      onMessage(JSON.parse(event.data));
    } catch (error) {
      console.warn("queuekit: a live message could not be used", error);
    }
  };
  return () => {
    source.close();
    delete document.documentElement.dataset.live;
  };
}

let config = null;

/** The app's settings ({read_only, queue}), read once. */
export async function getConfig() {
  if (config === null) config = await api("api/config");
  return config;
}

/** True when the dashboard is read-only: the pages show no action at all. */
export function readOnly() {
  return config === null || config.read_only;
}
