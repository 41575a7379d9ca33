// What every console shares: the message catalog, the bearer token, JSON calls to the API.
"use strict";

const params = new URLSearchParams(location.search);
export const lang = params.get("lang") === "en" ? "en" :
  params.get("lang") === "id" ? "id" : (localStorage.getItem("acd117.lang") || "id");
let messages = {};

/** The message `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** Loads the catalog and fills every [data-i18n] element (and placeholders, titles). */
export async function start() {
  const reply = await fetch(`/consoles/i18n/${lang}.json`);
  messages = await reply.json();
  document.documentElement.lang = lang;
  translate(document);
  const other = lang === "id" ? "en" : "id";
  for (const el of document.querySelectorAll("[data-lang-switch]")) {
    el.textContent = t("common.switch_lang");
    el.addEventListener("click", () => {
      localStorage.setItem("acd117.lang", other);
      const next = new URLSearchParams(location.search);
      next.set("lang", other);
      location.search = next.toString();
    });
  }
}

export function translate(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

/** The token of this console's sign-in, kept for the tab only (sessionStorage). */
export function session(name) {
  const key = `acd117.${name}.token`;
  return {
    get token() { return sessionStorage.getItem(key); },
    set token(value) {
      if (value) sessionStorage.setItem(key, value); else sessionStorage.removeItem(key);
    },
  };
}

/** A call to the JSON API: JSON bodies only (the API refuses forms from browsers). */
export async function api(sess, method, path, body) {
  const headers = {Accept: "application/json"};
  if (sess && sess.token) headers.Authorization = `Bearer ${sess.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const reply = await fetch(path, {method, headers, credentials: "same-origin",
                                   body: body === undefined ? undefined : JSON.stringify(body)});
  let data = null;
  try { data = await reply.json(); } catch { data = null; }
  if (!reply.ok) {
    if (reply.status === 401 && sess) sess.token = null;
    throw new ApiError(reply.status, (data && data.error) || reply.statusText, data);
  }
  return data;
}

/** A file the API serves (audio, CSV) fetched with the token, as an object URL. */
export async function fileUrl(sess, path) {
  const reply = await fetch(path, {headers: {Authorization: `Bearer ${sess.token}`}});
  if (!reply.ok) throw new ApiError(reply.status, reply.statusText);
  return URL.createObjectURL(await reply.blob());
}

export async function download(sess, path, filename) {
  const url = await fileUrl(sess, path);
  const a = el("a", {href: url, download: filename});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** A new element with attributes and children (text or elements). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.map(c => (typeof c === "string" || typeof c === "number") ?
    document.createTextNode(String(c)) : c));
  return node;
}

export function show(id, visible) { document.getElementById(id).hidden = !visible; }
export function text(id, value) { document.getElementById(id).textContent = value; }

/** Shows an error (or clears it with null) in the element `id`. */
export function problem(id, error) {
  const box = document.getElementById(id);
  box.textContent = error ? t("common.error", {message: error.message || String(error)}) : "";
  box.hidden = !error;
}

export function secs(s) {
  s = Math.max(0, Math.round(s || 0));
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}:${String(s % 60).padStart(2, "0")}` :
    `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export function pct(x) { return x === null || x === undefined ? "–" : Math.round(x * 100) + "%"; }

/** Every `ms`, call `fn` (async), never two at once. */
export function every(ms, fn) {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try { await fn(); } finally { busy = false; }
  };
  tick();
  return setInterval(tick, ms);
}

/** The label of a value under a catalog prefix; the value itself when it has none. */
export function label(prefix, value) {
  const key = `${prefix}.${value}`;
  return key in messages ? t(key) : String(value);
}

/** A state's label: "agent_state.on_call" etc. */
export function stateLabel(state) { return t(`agent_state.${state}`); }
export function tierLabel(tier) { return tier ? t(`tier.${tier}`) : "–"; }

/** A console's live feed: the server-sent events of `path`, read with fetch so that the
 *  bearer token goes in a header (EventSource cannot send one). While the stream is down
 *  (a proxy that buffers, the daemon restarting) `poll` runs every `pollMs` instead and
 *  the stream is tried again, sooner first; body[data-live] says which: stream or poll.
 *  `onEvent(name, data)` gets each event; `onDenied(error)` a 401 or 403. */
export function live(sess, path, {onEvent, poll, pollMs, onDenied}) {
  let stopped = false, poller = null, controller = null, waitMs = 1000;
  const polling = on => {
    if (on && poller === null) poller = every(pollMs, poll);
    if (!on && poller !== null) { clearInterval(poller); poller = null; }
    if (!stopped) document.body.dataset.live = on ? "poll" : "stream";
  };
  const connect = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const reply = await fetch(path, {signal: controller.signal, headers: {
          Accept: "text/event-stream", Authorization: `Bearer ${sess.token}`}});
        if (reply.status === 401 || reply.status === 403) {
          onDenied(new ApiError(reply.status, reply.statusText));
          return;
        }
        if (!reply.ok || !reply.body) throw new ApiError(reply.status, reply.statusText);
        await readEvents(reply.body, (name, data) => {
          waitMs = 1000;
          polling(false);
          onEvent(name, data);
        });
      } catch { /* dropped: polled below until the stream is back */ }
      if (stopped) return;
      polling(true);
      await new Promise(resolve => setTimeout(resolve, waitMs));
      waitMs = Math.min(waitMs * 2, 15000);
    }
  };
  connect();
  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
      if (poller !== null) { clearInterval(poller); poller = null; }
      delete document.body.dataset.live;
    },
  };
}

/** Server-sent events from a response body: `onEvent(name, JSON data)` per event. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
