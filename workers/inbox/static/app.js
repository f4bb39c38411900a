"use strict";
// The inbox page: sign in with a token, then poll the API. Untrusted text (mentions, authors,
// reasons) only ever goes into the page through textContent and attribute setters.
const POLL_MS = 2000;
const URGENCIES = ["low", "normal", "high", "critical"];
const state = { token: sessionStorage.getItem("inbox-token"), me: null, view: "queue",
  members: [], timer: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, method = "GET", body = undefined) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers,
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    signOut(t("badToken"));
    throw new Error(t("badToken"));
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const detail = typeof data.detail === "string" ? data.detail : res.statusText;
    throw new Error(detail);
  }
  return data;
}

function say(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.className = isError ? "error" : "muted";
}

// --- signing in and out -------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  try {
    state.me = await api("/api/me");
  } catch (err) {
    $("sign-in-error").textContent = err.message;
    return;
  }
  sessionStorage.setItem("inbox-token", token);
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("whoami").textContent = `${state.me.name} (${state.me.role})`;
  $("tab-team").hidden = state.me.role !== "lead";
  show("queue");
}

function signOut(message = "") {
  sessionStorage.removeItem("inbox-token");
  clearTimeout(state.timer);
  Object.assign(state, { token: null, me: null });
  $("nav").hidden = true;
  $("queue").hidden = true;
  $("team-view").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
}

function show(view) {
  state.view = view;
  $("queue").hidden = view !== "queue";
  $("team-view").hidden = view !== "team";
  $("tab-queue").setAttribute("aria-selected", view === "queue");
  $("tab-team").setAttribute("aria-selected", view === "team");
  refresh();
}

async function refresh() {
  clearTimeout(state.timer);
  if (!state.token) return;
  try {
    if (state.view === "team") await refreshTeam();
    else await refreshQueue();
  } catch (err) {
    say(err.message, true);
  }
  if (state.token) state.timer = setTimeout(refresh, POLL_MS);
}

// --- cards ------------------------------------------------------------------------------

function safeLink(url) {
  // Only web links: a javascript: or data: URL in a mention must not become clickable.
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function buildCard(item) {
  const li = el("li", { class: "card", "data-id": item.mention_id, "data-testid": "card" });
  const meta = el("div", { class: "meta" });
  meta.append(el("span", { class: "badge", "data-field": "urgency" }),
    el("span", { "data-field": "topic" }), el("span", {}, item.platform),
    el("span", { class: "due", "data-due": item.due_at }),
    el("span", { class: "state", "data-field": "state" }));
  const who = el("div", { class: "meta" });
  who.append(el("span", { "data-field": "author" }, item.author));
  const link = item.url && safeLink(item.url);
  if (link) {
    who.append(el("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, t("original")));
  }
  who.append(el("span", { "data-field": "account" }));
  if (state.view === "team") who.append(el("span", { "data-field": "assignee" }));
  li.append(meta, who, el("p", { class: "text", "data-testid": "text" }, item.text),
    el("p", { class: "why", "data-field": "why" }));
  return li;
}

function setField(li, name, text) {
  const node = li.querySelector(`[data-field="${name}"]`);
  if (node) node.textContent = text;
}

function updateCard(li, item) {
  const urgency = li.querySelector('[data-field="urgency"]');
  urgency.textContent = item.urgency;
  urgency.className = `badge ${item.urgency}`;
  li.querySelector('[data-field="topic"]').textContent = item.topic;
  setField(li, "state", t("states")[item.state] ?? item.state);
  setField(li, "account", item.account ? `${t("replyFrom")} ${item.account}` : "");
  setField(li, "assignee", item.employee_name ? `→ ${item.employee_name}` : "");
  const why = item.why || item.reason;
  const label = state.view === "team" ? t("whyThem") : t("why");
  setField(li, "why", why ? `${label}: ${why}` : "");
  li.dataset.state = item.state;
}

function syncList(list, items, build) {
  const existing = new Map([...list.children].map((li) => [li.dataset.id, li]));
  items.forEach((item, index) => {
    const li = existing.get(item.mention_id) || build(item);
    existing.delete(item.mention_id);
    updateCard(li, item);
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
  for (const li of existing.values()) li.remove();
}

function button(label, onClick, cls = "") {
  const b = el("button", { type: "button", class: cls }, label);
  b.addEventListener("click", onClick);
  return b;
}

async function act(mentionId, kind, body) {
  try {
    await api(`/api/assignments/${encodeURIComponent(mentionId)}/${kind}`, "POST", body);
    say(t("queued"));
    setTimeout(refresh, 300);
  } catch (err) {
    say(`${t("failed")}: ${err.message}`, true);
  }
}

// --- my queue ----------------------------------------------------------------------------

function queueCard(item) {
  const li = buildCard(item);
  const id = item.mention_id;
  const row = el("div", { class: "actions" });
  const minutes = el("input", { type: "number", min: 0, max: 1440, step: 1,
    value: Math.round(item.estimated_minutes || 0), "aria-label": t("minutes"), "data-testid": "minutes" });
  const reason = el("input", { type: "text", maxlength: 500, placeholder: t("reason"),
    "aria-label": t("reason"), "data-testid": "reason" });
  const topic = el("input", { type: "text", maxlength: 64, placeholder: t("topic"),
    pattern: "[a-z][a-z0-9_]*", "aria-label": t("topic") });
  const urgency = el("select", { "aria-label": t("urgency") });
  urgency.append(el("option", { value: "" }, `${t("urgency")}…`));
  for (const u of URGENCIES) urgency.append(el("option", { value: u }, u));
  row.append(
    button(t("accept"), () => act(id, "accept"), "primary"),
    minutes, el("span", { class: "unit" }, t("minutes")), button(t("done"), () => needs(minutes) && act(id, "done", { minutes: Number(minutes.value) })),
    reason, button(t("decline"), () => needs(reason) && act(id, "decline", { reason: reason.value })),
    topic, urgency, button(t("correct"), () => {
      const body = {};
      if (topic.value) body.topic = topic.value.trim();
      if (urgency.value) body.urgency = urgency.value;
      act(id, "correct", body);
    }),
  );
  li.append(row);
  return li;
}

function needs(input) {
  // The server validates too; this only saves a round trip for an empty field.
  if (input.value.trim() !== "" && input.checkValidity()) return true;
  input.focus();
  say(`${t("failed")}: ${input.getAttribute("aria-label")}`, true);
  return false;
}

async function refreshQueue() {
  const data = await api("/api/assignments");
  syncList($("queue-list"), data.items, queueCard);
  $("queue-empty").hidden = data.items.length > 0;
  tickDeadlines();
}

// --- the lead's team view ------------------------------------------------------------------

function teamCard(item) {
  const li = buildCard(item);
  const row = el("div", { class: "actions" });
  const to = el("select", { "aria-label": t("to"), "data-testid": "reassign-to" });
  // Every member: the holder changes under the card (the API refuses the current one).
  for (const m of state.members) to.append(el("option", { value: m.employee_id }, m.name));
  row.append(el("span", {}, `${t("reassign")} ${t("to")}`), to,
    button(t("reassign"), () => act(item.mention_id, "reassign", { to: to.value })));
  li.append(row);
  return li;
}

async function refreshTeam() {
  const [team, budgets, sla] = await Promise.all(
    [api("/api/team"), api("/api/team/budgets"), api("/api/team/sla")]);
  state.members = budgets;
  $("team-names").textContent = team.teams.join(", ");
  $("budget-chart").replaceChildren(budgetChart(budgets));
  $("sla-chart").replaceChildren(slaChart(sla));
  syncList($("team-open"), team.open, teamCard);
  syncList($("team-backlogged"), team.backlogged, teamCard);
  syncList($("team-escalated"), team.escalated, teamCard);
  tickDeadlines();
}

// --- deadlines ---------------------------------------------------------------------------

function duration(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return h ? `${h}h ${m}m` : `${m}m`;
}

function tickDeadlines() {
  const now = Date.now();
  for (const span of document.querySelectorAll("[data-due]")) {
    const left = Date.parse(span.dataset.due) - now;
    span.textContent = left >= 0 ? `${t("due")}: ${duration(left)} ${t("left")}`
      : `${t("overdue")} ${duration(left)}`;
    span.classList.toggle("late", left < 0);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token").value.trim());
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("tab-queue").addEventListener("click", () => show("queue"));
  $("tab-team").addEventListener("click", () => show("team"));
  setInterval(tickDeadlines, 1000);
  if (state.token) signIn(state.token);
});
