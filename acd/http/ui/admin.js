// The admin's console: users, and the call flows (validate, reload) with located problems.
"use strict";
import {api, ApiError, el, label, problem, session, show, start, t, text} from "/consoles/common.js";

const sess = session("admin");
// "file:line:column: setting.path: what is wrong" (config.loader's located problems).
const LOCATED = /^(.+?):(\d+):(\d+): (?:(warning): )?(\S+?): (.*)$/s;

function failed(e) {
  if (e instanceof ApiError && e.status === 401) signInForm();
  problem("error", e);
}

function notice(message) {
  text("notice", message);
  show("notice", Boolean(message));
}

function showProblems(problems) {
  show("problems-table", problems.length > 0);
  document.getElementById("problems").replaceChildren(...problems.map(p => {
    const m = LOCATED.exec(p);
    if (!m) return el("tr", {}, el("td", {colspan: "4"}, p));
    return el("tr", {class: m[4] ? "warning" : "bad"}, el("td", {class: "file"}, m[1]),
      el("td", {class: "num"}, `${m[2]}:${m[3]}`), el("td", {}, m[5]), el("td", {}, m[6]));
  }));
}

async function flows(path) {
  problem("error", null);
  const result = document.getElementById("flows-result");
  result.textContent = t("admin.checking");
  try {
    const reply = await api(sess, "POST", path);
    showProblems([]);
    const done = path.endsWith("reload") ? "admin.reloaded" : reply.applicable_now === false ?
      "admin.valid_with_conflicts" : "admin.valid";
    result.textContent = t(done, {centres: reply.centres, agents: reply.agents,
                                  calls: reply.calls_in_progress ?? 0});
    result.dataset.outcome = "valid";
    if (reply.conflicts && reply.conflicts.length) showProblems(reply.conflicts);
  } catch (e) {
    // 422: invalid files, 409: conflicts with calls in progress; the body lists them.
    if (e instanceof ApiError && (e.status === 422 || e.status === 409)) {
      const body = e.body || {};
      result.textContent = t(e.status === 422 ? "admin.invalid" : "admin.refused");
      result.dataset.outcome = "invalid";
      showProblems(body.problems || body.conflicts || []);
    } else { result.textContent = ""; failed(e); }
  }
}

async function userAction(username, what) {
  problem("error", null);
  try {
    await api(sess, "POST", `/api/users/${encodeURIComponent(username)}/${what}`);
    notice(t(`admin.done_${what}`, {user: username}));
    await users();
  } catch (e) { failed(e); }
}

async function users() {
  try {
    const reply = await api(sess, "GET", "/api/users");
    document.getElementById("users").replaceChildren(...reply.users.map(u => el("tr",
      {dataset: {username: u.username}},
      el("td", {}, u.username), el("td", {}, label("role", u.role)), el("td", {}, u.agent_id || "–"),
      el("td", {}, u.display_name || "–"),
      el("td", {class: u.disabled ? "bad" : "ok"}, t(u.disabled ? "admin.disabled" : "admin.enabled")),
      el("td", {class: "num"}, String(u.sessions)),
      el("td", {class: "actions"},
        el("button", {type: "button", onclick: () => userAction(u.username, u.disabled ? "enable" : "disable")},
           t(u.disabled ? "admin.enable" : "admin.disable")),
        el("button", {type: "button", disabled: !u.sessions,
                      onclick: () => userAction(u.username, "logout")}, t("admin.end_sessions")),
        el("button", {type: "button", dataset: {action: "reset"}, onclick: () => {
          const f = document.getElementById("reset-password");
          f.username.value = u.username;
          f.password.focus();
        }}, t("admin.new_password"))))));
  } catch (e) { failed(e); }
}

async function addUser(event) {
  event.preventDefault();
  problem("error", null);
  const f = event.target;
  const body = {username: f.username.value.trim(), password: f.password.value, role: f.role.value};
  if (f.agent_id.value.trim()) body.agent_id = f.agent_id.value.trim();
  if (f.display_name.value.trim()) body.display_name = f.display_name.value.trim();
  try {
    await api(sess, "POST", "/api/users", body);
    notice(t("admin.added", {user: body.username}));
    f.reset();
    await users();
  } catch (e) { failed(e); }
}

/** A new password for a user (who forgot theirs): their sessions end with the old one. */
async function resetPassword(event) {
  event.preventDefault();
  problem("error", null);
  const f = event.target;
  const username = f.username.value.trim();
  try {
    await api(sess, "PATCH", `/api/users/${encodeURIComponent(username)}`,
              {password: f.password.value});
    notice(t("admin.done_reset", {user: username}));
    f.reset();
    await users();
  } catch (e) { failed(e); }
}

async function desk() {
  let me;
  try { me = await api(sess, "GET", "/api/me"); } catch (e) { failed(e); return; }
  text("who", t("common.who", {user: me.username, role: label("role", me.role)}));
  show("signin", false);
  show("desk", true);
  show("signout", true);
  await users();
}

function signInForm() {
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
    if (reply.role !== "admin") throw new Error(t("admin.not_admin"));
    sess.token = reply.token;
    f.password.value = "";
    await desk();
  } catch (e) { problem("error", e); }
}

await start();
document.getElementById("signin").addEventListener("submit", signIn);
document.getElementById("signout").addEventListener("click", async () => {
  try { await api(sess, "POST", "/api/logout"); } catch { /* signed out anyway */ }
  signInForm();
});
document.getElementById("validate").addEventListener("click", () => flows("/api/config/validate"));
document.getElementById("reload").addEventListener("click", () => flows("/api/config/reload"));
document.getElementById("add-user").addEventListener("submit", addUser);
document.getElementById("reset-password").addEventListener("submit", resetPassword);
if (sess.token) desk(); else signInForm();
document.body.dataset.ready = "1";
