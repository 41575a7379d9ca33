// The call taker's console: sign in at a phone, available / pause / log out, screen pop,
// the call's buttons: hold, mute, transfer, consult or conference a number or a centre, and the
// classification of the call at wrap-up.
"use strict";
import {api, ApiError, el, label, lang, live, problem, secs, session, show, start, stateLabel,
        t, text, tierLabel} from "/consoles/common.js";

const sess = session("agent");
let feed = null, ticker = null;

async function signIn(event) {
  event.preventDefault();
  problem("error", null);
  const f = event.target;
  try {
    const reply = await api(null, "POST", "/api/agent/login", {
      agent_id: f.agent_id.value.trim(), password: f.password.value,
      device: f.device.value.trim()});
    sess.token = reply.token;
    localStorage.setItem("acd117.agent.device", f.device.value.trim());
    f.password.value = "";
    desk();
  } catch (e) { problem("error", e); }
}

async function act(path, body) {
  problem("error", null);
  try { await api(sess, "POST", path, body); await refresh(); } catch (e) { failed(e); }
}

function failed(e) {
  if (e instanceof ApiError && e.status === 401) { signInForm(); }
  problem("error", e);
}

function showCall(call, me) {
  const state = me.state;
  show("pop", Boolean(call) && state !== "after_call_work");
  showWrapUp(call, me);
  if (!call) return;
  text("pop-title", t(call.connected ? "agent.pop_connected" : "agent.pop_ringing"));
  document.getElementById("pop").dataset.callId = call.id;
  document.getElementById("pop").classList.toggle("ringing", !call.connected);
  text("pop-caller", call.caller || t("call.withheld"));
  text("pop-class", label("caller_class", call.caller_class));
  text("pop-region", call.region_name ? `${call.region_name} (${call.region})` : call.region);
  text("pop-line", label("line_type", call.line_type));
  text("pop-source", foundBy(call.region_source));
  text("pop-tier", tierLabel(call.tier));
  text("pop-path", pathText(call.path));
  text("pop-wait", secs(call.waited_s));
  const connected = Boolean(call.connected);
  show("call-actions", connected);
  show("transfer", connected && !call.party && destinations.length > 0);
  show("party", connected && Boolean(call.party));
  // Any destination may be consulted: a number is dialled, a centre rings one of its agents.
  const listed = new Set(destinations.map(d => d.code));
  const chosen = document.getElementById("transfer-to").value;
  for (const id of ["consult-button", "conference-button"]) {
    document.getElementById(id).disabled = !listed.has(chosen);
  }
  const hold = document.getElementById("hold");
  hold.textContent = t(call.on_hold ? "agent.resume" : "agent.hold");
  hold.dataset.on = call.on_hold ? "1" : "";
  hold.disabled = Boolean(call.party);
  document.getElementById("mute").textContent = t(muted ? "agent.unmute" : "agent.mute");
  if (call.party) {
    text("party-state", t(call.party.connected ? "agent.party_connected" : "agent.party_ringing",
                          {code: call.party.code}));
    document.getElementById("consult-complete").disabled = !call.party.connected;
  }
}

let wrapup = {required: false, classes: [], emergency_types: []};
let formFor = null;  // the call the classification form is for

const byLang = item => (lang === "en" && item.label_en) || item.label;
let pauseLabels = new Map();  // the call flows' pause reasons, code -> label

async function loadDesk() {
  let reasons;
  try {
    wrapup = await api(sess, "GET", "/api/wrapup");
    reasons = (await api(sess, "GET", "/api/pauses")).reasons;
  } catch (e) { failed(e); return; }
  if (reasons.length) {  // else the catalog's usual reasons stay
    pauseLabels = new Map(reasons.map(r => [r.code, byLang(r)]));
    document.getElementById("reason").replaceChildren(...reasons.map(r =>
      el("option", {value: r.code}, r.digit ? `${byLang(r)} (*13${r.digit})` : byLang(r))));
  }
  document.getElementById("classes").replaceChildren(
    document.getElementById("classes").firstElementChild,
    ...wrapup.classes.map(c => el("label", {class: "choice"},
      el("input", {type: "radio", name: "code", value: c.code, required: true,
                   dataset: {report: c.report ? "1" : ""}}), " ", byLang(c))));
  document.getElementById("emergency-type").replaceChildren(
    ...wrapup.emergency_types.map(k => el("option", {value: k.code}, byLang(k))));
  show("wrapup-ready", !wrapup.required);
  redraw();
}

/** What was last shown, again: the call flows' labels and codes have come. */
function redraw() {
  if (shown) render(shown.me, shown.call, shown.at);
}

function showWrapUp(call, me) {
  const wrapping = me.state === "after_call_work";
  show("wrapup", wrapping);
  if (wrapping) {
    text("wrapup-left", secs(me.wrap_up_left_s));
    show("wrapup-required", wrapup.required && !me.classified && me.wrap_up_left_s <= 0);
  }
  const open = wrapup.classes.length > 0 && (wrapping || Boolean(call && call.connected));
  show("classify", open);
  if (!open) { formFor = null; return; }
  if (formFor !== me.call_id) {  // a new call: an empty form
    formFor = me.call_id;
    document.getElementById("classify").reset();
    showReport();
  }
  show("classified", me.classified);
  document.getElementById("classify-ready").disabled = !wrapping;
}

function showReport() {
  const chosen = document.querySelector("#classes input:checked");
  show("report", Boolean(chosen && chosen.dataset.report));
}

async function classify(ready) {
  const form = document.getElementById("classify");
  if (!form.reportValidity()) return;
  const chosen = form.querySelector("#classes input:checked");
  const body = {code: chosen.value, ready, notes: form.querySelector("#notes").value};
  if (chosen.dataset.report) {
    body.emergency_type = form.querySelector("#emergency-type").value || null;
    body.place = form.querySelector("#place").value;
    const people = form.querySelector("#people").value;
    if (people !== "") body.people_affected = Number(people);
  }
  await act("/api/agent/classify", body);
}

/** How the region was found: an ingress rule (DID, header, trunk), an area code, the default. */
function foundBy(source) {
  if (!source || source === "default") return t("source.default");
  if (source.startsWith("area_code:")) return t("source.area_code", {code: source.slice(10)});
  return t("source.rule", {name: source});
}

/** "dialihkan dari Kota Palu ke … setelah 0:20" for each centre the call left; a call
 *  that skipped its own centre (nobody there, closed) says so first. */
function pathText(path) {
  path = path || [];
  const moves = path.slice(1).map((hop, i) => t(
    hop.reason === "transfer" ? "path.transferred" : "path.escalated",
    {from: path[i].centre_name, to: hop.centre_name, after: secs(hop.after_s - path[i].after_s)}));
  if (path.length && path[0].reason !== "arrival") {
    moves.unshift(t("path.skipped", {to: path[0].centre_name, why: label("hop", path[0].reason)}));
  }
  return moves.length ? moves.join("; ") : t("path.direct");
}

let muted = false;
let historyOf = null;  // the call whose history is shown

async function showHistory(call) {
  show("caller-history", Boolean(call));
  if (!call || call.id === historyOf) return;
  historyOf = call.id;
  let calls = [];
  try { calls = (await api(sess, "GET", "/api/agent/call/history")).calls; }
  catch (e) { failed(e); return; }
  show("history-none", calls.length === 0);
  document.getElementById("history").replaceChildren(...calls.map(c => {
    const tr = document.createElement("tr");
    tr.dataset.callId = c.call_id;
    const when = new Date(c.arrived_at * 1000).toLocaleString(document.documentElement.lang);
    const cls = wrapup.classes.find(k => k.code === c.classification);
    const classLabel = cls ? byLang(cls) :
      (c.classification || "–");
    for (const value of [when, label("outcome", c.outcome || "open"), c.centre_id || "–",
                         c.agent_id || "–", c.talk_s == null ? "–" : secs(c.talk_s),
                         classLabel, c.notes || ""]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
}

let destinations = [];

async function loadDestinations() {
  try { destinations = (await api(sess, "GET", "/api/transfers")).destinations; }
  catch (e) { failed(e); return; }
  const select = document.getElementById("transfer-to");
  select.replaceChildren(...destinations.map(d => {
    const option = document.createElement("option");
    option.value = d.code;
    option.textContent = `${d.label} (${d.code})`;
    return option;
  }));
  redraw();
}

async function transfer(path, extra) {
  const to = document.getElementById("transfer-to").value;
  if (to) await act(path, {to, ...extra});
}

/** The state and call now, asked for: after an action, and while the stream is down. */
async function refresh() {
  let me;
  try { me = await api(sess, "GET", "/api/agent"); } catch (e) { failed(e); return; }
  let call = null;
  if (me.call_id) {
    try { call = (await api(sess, "GET", "/api/agent/call")).call; } catch (e) { failed(e); }
  }
  await render(me, call);
}

let shown = null;  // what was last rendered, and when: the counters run on from it

async function render(me, call, at = performance.now()) {
  shown = {me, call, at};
  const stateEl = document.getElementById("state");
  stateEl.textContent = stateLabel(me.state);
  stateEl.dataset.state = me.state;
  document.body.dataset.state = me.state;
  const detail = [];
  if (me.pause_reason) {
    detail.push(pauseLabels.get(me.pause_reason) || label("pause", me.pause_reason));
  }
  if (me.pending) detail.push(t("agent.pending", {what: t(`pending.${me.pending.split(":")[0]}`)}));
  text("state-detail", detail.join(" · "));
  text("who", t("agent.who", {agent: me.agent_id, device: me.device || "–"}));
  document.getElementById("ready").disabled = me.state !== "paused";
  document.getElementById("pause").disabled = me.state === "paused" || me.state === "logged_out";
  showCall(call, me);
  await showHistory(call);
  if (me.state === "logged_out") signInForm();
}

/** Every second between two updates: the wait so far and the wrap-up time left. */
function tick() {
  if (!shown) return;
  const gone = (performance.now() - shown.at) / 1000;
  const {me, call} = shown;
  if (call && !call.connected) text("pop-wait", secs(call.waited_s + gone));
  if (me.state === "after_call_work" && me.wrap_up_left_s !== null) {
    const left = Math.max(0, me.wrap_up_left_s - gone);
    text("wrapup-left", secs(left));
    show("wrapup-required", wrapup.required && !me.classified && left <= 0);
  }
}

function desk() {
  show("signin", false);
  show("desk", true);
  if (feed !== null) return;
  // Live over the agent's own event stream; polled only while it is down.
  feed = live(sess, "/api/agent/events", {
    pollMs: 1000, poll: refresh, onDenied: failed,
    onEvent: (name, data) => {
      if (name === "agent" && data.agent) render(data.agent, data.call);
      else if (name === "signed_out") signInForm();
    }});
  ticker = setInterval(tick, 1000);
  loadDestinations();
  loadDesk();
}

function signInForm() {
  if (feed !== null) { feed.stop(); feed = null; }
  clearInterval(ticker);
  shown = null;
  sess.token = null;
  show("desk", false);
  show("signin", true);
  text("who", "");
  document.getElementById("device").value = localStorage.getItem("acd117.agent.device") || "";
}

await start();
document.getElementById("signin").addEventListener("submit", signIn);
document.getElementById("ready").addEventListener("click", () => act("/api/agent/unpause"));
document.getElementById("pause").addEventListener("click", () =>
  act("/api/agent/pause", {reason: document.getElementById("reason").value}));
document.getElementById("classes").addEventListener("change", showReport);
document.getElementById("classify").addEventListener("submit", event => {
  event.preventDefault();
  classify(true);
});
document.getElementById("classify-save").addEventListener("click", () => classify(false));
document.getElementById("wrapup-ready").addEventListener("click", () => act("/api/agent/ready"));
document.getElementById("transfer-button").addEventListener("click",
  () => transfer("/api/agent/transfer", {}));
document.getElementById("consult-button").addEventListener("click",
  () => transfer("/api/agent/consult", {conference: false}));
document.getElementById("conference-button").addEventListener("click",
  () => transfer("/api/agent/consult", {conference: true}));
document.getElementById("consult-complete").addEventListener("click",
  () => act("/api/agent/consult/complete"));
document.getElementById("consult-cancel").addEventListener("click",
  () => act("/api/agent/consult/cancel"));
document.getElementById("hold").addEventListener("click", event =>
  act("/api/agent/hold", {on: !event.target.dataset.on}));
document.getElementById("mute").addEventListener("click", async () => {
  muted = !muted;
  await act("/api/agent/mute", {on: muted});
});
document.getElementById("logout").addEventListener("click", async () => {
  await act("/api/agent/logout");
  signInForm();
});
if (sess.token) desk(); else signInForm();
document.body.dataset.ready = "1";
