// The supervisor's console: live agents and waiting calls, alerts, listen/whisper/barge,
// force logout, recordings, reports and the forecast.
"use strict";
import {api, ApiError, download, el, fileUrl, label, lang, live, pct, problem, secs, session,
        show, start, stateLabel, t, text, tierLabel} from "/consoles/common.js";

const sess = session("supervisor");
const PHONE_KEY = "acd117.supervisor.phone";
let feed = null, centres = new Map();
let lastState = null, lastAlerts = [];  // shown again when a filter changes

const province = region => String(region || "").split(".")[0];

function failed(e) {
  if (e instanceof ApiError && e.status === 401) signInForm();
  problem("error", e);
}

function options(select, values, allKey) {
  const current = select.value;
  select.replaceChildren(el("option", {value: ""}, t(allKey)),
    ...values.map(([value, name]) => el("option", {value}, name)));
  select.value = values.some(([v]) => v === current) ? current : "";
}

function fillFilters(state) {
  centres = new Map(state.centres.map(c => [c.id, c]));
  options(document.getElementById("f-tier"),
          state.tiers.map(x => [x.tier, tierLabel(x.tier)]), "filter.all_tiers");
  const provinces = new Map();
  for (const c of state.centres) {
    const code = province(c.region);
    if (!code) continue;
    if (c.tier === "province" || !provinces.has(code)) provinces.set(code, `${code} · ${c.name}`);
  }
  options(document.getElementById("f-province"), [...provinces].sort(), "filter.all_provinces");
  options(document.getElementById("f-centre"),
          state.centres.map(c => [c.id, c.name]), "filter.all_centres");
}

function wanted(centreId, tier) {
  const f = id => document.getElementById(id).value;
  const c = centres.get(centreId);
  if (f("f-tier") && (tier || (c && c.tier)) !== f("f-tier")) return false;
  if (f("f-province") && (!c || province(c.region) !== f("f-province"))) return false;
  if (f("f-centre") && centreId !== f("f-centre")) return false;
  return true;
}

async function monitor(agentId, mode) {
  const device = document.getElementById("sup-phone").value.trim();
  if (!device) { problem("error", new Error(t("supervisor.phone_needed"))); return; }
  localStorage.setItem(PHONE_KEY, device);
  problem("error", null);
  try {
    await api(sess, "POST", `/api/agents/${encodeURIComponent(agentId)}/monitor`, {mode, device});
    text("action-result", t(`supervisor.started_${mode}`, {agent: agentId, device}));
  } catch (e) { failed(e); }
}

async function forceLogout(agentId) {
  if (!confirm(t("supervisor.confirm_logout", {agent: agentId}))) return;
  try {
    await api(sess, "POST", `/api/agents/${encodeURIComponent(agentId)}/logout`);
    text("action-result", t("supervisor.logged_out", {agent: agentId}));
  } catch (e) { failed(e); }
}

async function forcePause(agentId) {
  const reason = document.getElementById("sup-pause-reason").value;
  try {
    await api(sess, "POST", `/api/agents/${encodeURIComponent(agentId)}/pause`, {reason});
    text("action-result", t("supervisor.paused", {agent: agentId}));
  } catch (e) { failed(e); }
}

function renderLive(state) {
  const byId = new Map(state.calls.map(c => [c.id, c]));
  const calls = state.calls.filter(c => c.state !== "connected" && wanted(c.centre, c.tier))
    .sort((a, b) => b.waited_s - a.waited_s);
  document.getElementById("calls").replaceChildren(...calls.map(c => el("tr",
    {dataset: {id: c.id}},
    el("td", {}, c.caller || t("call.withheld")), el("td", {}, label("caller_class", c.caller_class)),
    el("td", {}, c.region_name || c.region), el("td", {}, tierLabel(c.tier)),
    el("td", {}, (centres.get(c.centre) || {}).name || c.centre || "–"),
    el("td", {class: "num"}, secs(c.waited_s)),
    el("td", {class: "num position"}, c.position ? String(c.position)
       : c.state === "offered" ? stateLabel("ringing") : "–"))));
  const agents = state.agents.filter(a => a.state !== "logged_out" && wanted(a.centre));
  document.getElementById("agents").replaceChildren(...agents.map(a => {
    const call = a.call_id ? byId.get(a.call_id) : null;
    const onCall = a.state === "on_call";
    const button = (key, fn, cls) => el("button", {type: "button", class: cls,
      disabled: ["listen", "whisper", "barge"].includes(key) && !onCall,
      dataset: {action: key}, onclick: fn}, t(`supervisor.${key}`));
    return el("tr", {dataset: {id: a.id, state: a.state}},
      el("td", {}, a.id), el("td", {}, (centres.get(a.centre) || {}).name || a.centre),
      el("td", {class: `state s-${a.state}`}, stateLabel(a.state) +
         (a.pause_reason ? ` (${label("pause", a.pause_reason)})` : "")),
      el("td", {class: "num"}, a.since ? secs(state.at - a.since) : "–"),
      el("td", {}, call ? `${call.caller || t("call.withheld")} · ${call.region_name || call.region}` : "–"),
      el("td", {class: "num calls-today"}, String(a.calls_today)),
      el("td", {class: "actions"}, button("listen", () => monitor(a.id, "listen")),
         button("whisper", () => monitor(a.id, "whisper")),
         button("barge", () => monitor(a.id, "barge")),
         button("pause", () => forcePause(a.id)),
         button("logout", () => forceLogout(a.id), "danger")));
  }));
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
}

function showState(state) {
  lastState = state;
  fillFilters(state);
  renderLive(state);
}

function showAlerts(alerts) {
  lastAlerts = alerts;
  const list = alerts.filter(a => !a.centre_id || wanted(a.centre_id)).slice(0, 20);
  document.getElementById("alert-list").replaceChildren(...(list.length ? list.map(a =>
    el("li", {class: `alert a-${a.kind}`}, el("strong", {}, label("alert", a.kind)), " ",
       a.message)) : [el("li", {class: "dim"}, t("supervisor.no_alerts"))]));
}

/** The room and the alerts asked for: only while the event stream is down. */
async function refresh() {
  try {
    showState(await api(sess, "GET", "/api/state"));
    showAlerts((await api(sess, "GET", "/api/alerts")).alerts);
  } catch (e) { failed(e); }
}

// --- recordings ---------------------------------------------------------------------------

async function searchRecordings(event) {
  event.preventDefault();
  problem("error", null);
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(event.target)) if (String(v).trim()) q.set(k, String(v).trim());
  try {
    const {recordings} = await api(sess, "GET", `/api/recordings?${q}`);
    show("rec-none", recordings.length === 0);
    document.getElementById("recordings").replaceChildren(...recordings.map(r => {
      const player = el("td", {class: "actions"});
      const play = el("button", {type: "button", onclick: async () => {
        try {
          const audio = el("audio", {controls: true, preload: "metadata"});
          audio.addEventListener("loadedmetadata", () => { audio.dataset.loaded = "1"; });
          audio.src = await fileUrl(sess, r.play_url);
          play.replaceWith(audio);
        } catch (e) { failed(e); }
      }}, t("supervisor.play"));
      const save = el("button", {type: "button", onclick: () =>
        download(sess, r.download_url, `${r.call_id}.${r.format}`).catch(failed)},
        t("common.download"));
      player.append(play, save);
      return el("tr", {dataset: {id: r.id}},
        el("td", {}, new Date(r.started_at).toLocaleString(document.documentElement.lang)),
        el("td", {}, r.caller || "–"), el("td", {}, r.agent_id || "–"),
        el("td", {}, (centres.get(r.centre_id) || {}).name || r.centre_id || "–"),
        el("td", {class: "num"}, secs(r.duration_s)), player);
    }));
  } catch (e) { failed(e); }
}

// --- reports -----------------------------------------------------------------------------

const CHART = {calls: "offered", tiers: "offered", agents: "talk_s", transfers: "transferred",
               classifications: "calls", forecast: "agents"};

function reportQuery(form, csv) {
  const q = new URLSearchParams({unit: form.unit.value});
  if (form.from.value) q.set("from", form.from.value);
  if (form.to.value) q.set("to", form.to.value);
  if (csv) q.set("format", "csv");
  return `/api/reports/${form.kind.value}?${q}`;
}

function cellText(key, value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}: ${v}`).join(", ");
  if (key === "service_level" || key === "abandon_rate") return pct(value);
  return String(value);
}

function chart(rows, kind) {
  const metric = CHART[kind];
  const sums = new Map();
  for (const r of rows) {
    const at = r.slot || String(r.period_start || "").slice(0, 16).replace("T", " ");
    sums.set(at, (sums.get(at) || 0) + Number(r[metric] || 0));
  }
  const bars = [...sums];
  const box = document.getElementById("chart");
  if (!bars.length) { box.replaceChildren(); return; }
  const ns = "http://www.w3.org/2000/svg", w = 24, h = 160, max = Math.max(1, ...bars.map(b => b[1]));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${bars.length * w + 40} ${h + 40}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label("col", metric));
  bars.forEach(([at, value], i) => {
    const bh = (value / max) * h;
    const rect = document.createElementNS(ns, "rect");
    Object.entries({x: 30 + i * w, y: 10 + h - bh, width: w - 4, height: bh, class: "bar"})
      .forEach(([k, v]) => rect.setAttribute(k, v));
    const tip = document.createElementNS(ns, "title");
    tip.textContent = `${at}: ${Math.round(value * 10) / 10}`;
    rect.append(tip);
    svg.append(rect);
  });
  const caption = document.createElementNS(ns, "text");
  caption.setAttribute("x", "30");
  caption.setAttribute("y", String(h + 32));
  caption.textContent = `${label("col", metric)} (max ${Math.round(max * 10) / 10})`;
  svg.append(caption);
  box.replaceChildren(svg);
}

async function showReport(event) {
  event.preventDefault();
  problem("error", null);
  const form = event.target;
  try {
    const data = await api(sess, "GET", reportQuery(form, false));
    const rows = data.rows || data.slots || [];
    const keys = rows.length ? Object.keys(rows[0]) : [];
    document.getElementById("report-table").replaceChildren(
      el("thead", {}, el("tr", {}, ...keys.map(k => el("th", {}, label("col", k))))),
      el("tbody", {}, ...rows.map(r => el("tr", {}, ...keys.map(k =>
        el("td", {class: typeof r[k] === "number" ? "num" : ""}, cellText(k, r[k])))))));
    show("report-none", rows.length === 0);
    chart(rows, form.kind.value);
  } catch (e) { failed(e); }
}

// --- the review list --------------------------------------------------------------------

async function showReviews() {
  let data;
  try { data = await api(sess, "GET", "/api/reviews?days=7"); } catch (e) { failed(e); return; }
  document.getElementById("review-numbers").replaceChildren(...data.numbers.map(n =>
    el("tr", {dataset: {caller: n.caller}}, el("td", {}, n.caller),
       el("td", {class: "num"}, n.calls),
       el("td", {}, el("button", {type: "button", onclick: () => {
         const f = document.getElementById("nuisance-form");
         f.number.value = n.caller;
         f.reason.value = t("nuisance.reason_pranks", {calls: n.calls});
         f.reason.focus();
       }}, t("nuisance.choose"))))));
  document.getElementById("review-calls").replaceChildren(...data.calls.map(c =>
    el("tr", {dataset: {id: c.call_id}},
       el("td", {}, new Date(c.classified_at * 1000).toLocaleString(document.documentElement.lang)),
       el("td", {}, c.caller || t("call.withheld")), el("td", {}, c.agent_id),
       el("td", {}, (centres.get(c.centre_id) || {}).name || c.centre_id || "–"),
       el("td", {}, c.notes || ""))));
  show("review-none", data.calls.length === 0);
  await showNuisanceList();
}

async function showNuisanceList() {
  let data;
  try { data = await api(sess, "GET", "/api/nuisance"); } catch (e) { failed(e); return; }
  const when = at => new Date(at * 1000).toLocaleDateString(document.documentElement.lang);
  const row = (n, by, removable) => el("tr", {dataset: {number: n.number}},
    el("td", {}, n.number), el("td", {}, n.reason), el("td", {}, when(n.until)),
    el("td", {}, by),
    el("td", {}, removable ? el("button", {type: "button", class: "danger", onclick: async () => {
      try { await api(sess, "POST", `/api/nuisance/${encodeURIComponent(n.number)}/remove`); }
      catch (e) { failed(e); }
      await showNuisanceList();
    }}, t("nuisance.remove")) : ""));
  document.getElementById("nuisance-list").replaceChildren(
    ...data.listed.map(n => row(n, n.added_by, true)),
    ...data.call_flows.map(n => row(n, t("nuisance.in_call_flows"), false)));
}

async function addNuisance(event) {
  event.preventDefault();
  problem("error", null);
  const f = event.target;
  try {
    await api(sess, "POST", "/api/nuisance", {number: f.number.value.trim(),
      reason: f.reason.value.trim(), days: Number(f.days.value)});
    f.number.value = f.reason.value = "";
  } catch (e) { failed(e); }
  await showNuisanceList();
}

// --- sign-in and tabs ----------------------------------------------------------------------

function tab(name) {
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== `tab-${name}`;
  for (const b of document.querySelectorAll("[data-tab]")) {
    b.classList.toggle("current", b.dataset.tab === name);
  }
}

async function desk() {
  let me;
  try { me = await api(sess, "GET", "/api/me"); } catch (e) { failed(e); return; }
  text("who", t("common.who", {user: me.username, role: label("role", me.role)}));
  show("signin", false);
  show("desk", true);
  show("signout", true);
  if (feed === null) {
    // Live over the room's event stream; polled only while it is down.
    feed = live(sess, "/api/state/events", {
      pollMs: 2000, poll: refresh, onDenied: failed,
      onEvent: (name, data) => {
        if (name === "state") showState(data);
        else if (name === "alerts") showAlerts(data.alerts);
        else if (name === "signed_out") signInForm();
      }});
    loadCodes();
  }
}

/** The call flows' pause reasons and wrap-up classes, for the pause button and the
 *  recordings search. */
async function loadCodes() {
  let reasons = [], classes = [];
  try {
    reasons = (await api(sess, "GET", "/api/pauses")).reasons;
    classes = (await api(sess, "GET", "/api/wrapup")).classes;
  } catch (e) { failed(e); }
  const byLang = item => (lang === "en" && item.label_en) || item.label;
  if (reasons.length) {  // else the one shown stays
    document.getElementById("sup-pause-reason").replaceChildren(...reasons.map(r =>
      el("option", {value: r.code, selected: r.code === "briefing"}, byLang(r))));
  }
  const select = document.getElementById("rec-class");
  select.replaceChildren(select.firstElementChild,
    ...classes.map(c => el("option", {value: c.code}, byLang(c))));
}

function signInForm() {
  if (feed !== null) { feed.stop(); feed = null; }
  lastState = null;
  sess.token = null;
  show("desk", false);
  show("signout", false);
  show("signin", true);
  text("who", "");
}

async function signIn(event) {
  event.preventDefault();
  problem("error", null);
  const f = event.target;
  try {
    const reply = await api(null, "POST", "/api/login",
                            {username: f.username.value.trim(), password: f.password.value});
    if (reply.role === "agent") throw new Error(t("supervisor.not_supervisor"));
    sess.token = reply.token;
    f.password.value = "";
    await desk();
  } catch (e) { problem("error", e); }
}

await start();
document.getElementById("sup-phone").value = localStorage.getItem(PHONE_KEY) || "";
document.getElementById("sup-phone").addEventListener("change", e =>
  localStorage.setItem(PHONE_KEY, e.target.value.trim()));
for (const id of ["f-tier", "f-province", "f-centre"]) {
  document.getElementById(id).addEventListener("change", () => {
    if (lastState) renderLive(lastState);
    showAlerts(lastAlerts);
  });
}
document.getElementById("signin").addEventListener("submit", signIn);
document.getElementById("signout").addEventListener("click", async () => {
  try { await api(sess, "POST", "/api/logout"); } catch { /* signed out anyway */ }
  signInForm();
});
for (const b of document.querySelectorAll("[data-tab]")) {
  b.addEventListener("click", () => {
    tab(b.dataset.tab);
    if (b.dataset.tab === "reviews") showReviews();
  });
}
document.getElementById("rec-search").addEventListener("submit", searchRecordings);
document.getElementById("report-form").addEventListener("submit", showReport);
document.getElementById("nuisance-form").addEventListener("submit", addNuisance);
document.getElementById("report-csv").addEventListener("click", () => {
  const form = document.getElementById("report-form");
  if (form.kind.value === "forecast") return;
  download(sess, reportQuery(form, true), `acd117-${form.kind.value}.csv`).catch(failed);
});
tab("live");
if (sess.token) desk(); else signInForm();
document.body.dataset.ready = "1";
