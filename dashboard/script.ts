/**
 * The dashboard's browser code, inlined into the page as a module script by page.ts. Plain
 * JavaScript (no framework, no imports) that reads the REST API on the same origin.
 *
 * It is a String.raw template: it must not contain backticks or dollar-brace sequences, so
 * strings are built with concatenation.
 */
export const dashboardScript = String.raw`
"use strict";

// ---------------------------------------------------------------- basics

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const REFRESH_MS = Math.max(500, Number(params.get("refresh")) || 5000);
const CONCURRENCY = 6; // parallel requests per view (a browser opens about 6 connections per origin)
const LAG_SAMPLES_MAX = 240;
const TABS = ["topics", "groups", "dlq", "search", "send", "transactions", "cluster"];

class ApiError extends Error {
  constructor(status, code, message, where) {
    super(message);
    this.status = status;
    this.code = code;
    this.where = where;
  }
}

/** Calls the REST API; resolves with the parsed JSON or throws an ApiError carrying { code, message }. */
async function api(path, init) {
  const method = (init && init.method) || "GET";
  const where = method + " " + path;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "NETWORK_ERROR", String((e && e.message) || e), where);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    body = null;
  }
  if (!res.ok) {
    const code = body && typeof body.code === "string" ? body.code : "HTTP_" + res.status;
    const message = body && typeof body.message === "string" ? body.message : text.slice(0, 300) || res.statusText;
    throw new ApiError(res.status, code, message, where);
  }
  if (body === null || typeof body !== "object") throw new ApiError(res.status, "BAD_RESPONSE", "the answer is not a JSON object", where);
  return body;
}

function postJson(path, body) {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

function errorText(e) {
  if (e instanceof ApiError) return e.code + ": " + e.message + (e.where ? "  (" + e.where + (e.status ? " → " + e.status : "") + ")" : "");
  return String((e && e.message) || e);
}

function showError(el, e) {
  el.textContent = typeof e === "string" ? e : errorText(e);
  el.hidden = false;
}

function clearError(el) {
  el.textContent = "";
  el.hidden = true;
}

/** Creates an element; attrs: text, on<event>, or attributes. Text is never parsed as HTML. */
function h(tag, attrs) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (let i = 2; i < arguments.length; i++) {
    const c = arguments[i];
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const enc = encodeURIComponent;

/** Runs fn over items with at most 'limit' in flight; fn handles its own errors. */
async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        console.error(e);
      }
    }
  };
  const workers = [];
  for (let i = 0; i < Math.min(limit, items.length); i++) workers.push(worker());
  await Promise.all(workers);
}

const fmtInt = (n) => (typeof n === "number" && isFinite(n) ? n.toLocaleString("en-US") : "—");

function fmtTime(ms) {
  if (!ms || ms <= 0) return "—";
  const d = new Date(ms);
  const p = (n, w) => String(n).padStart(w || 2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
}

function fmtAgo(ms) {
  if (!ms || ms <= 0) return "—";
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return fmtTime(ms);
}

function fmtBytes(n) {
  if (typeof n !== "number" || !isFinite(n)) return "—";
  if (n < 1024) return n + " B";
  if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
  if (n < 1073741824) return (n / 1048576).toFixed(1) + " MiB";
  return (n / 1073741824).toFixed(2) + " GiB";
}

function permText(perm) {
  return (perm & 4 ? "R" : "-") + (perm & 2 ? "W" : "-");
}

/** A base64 body as UTF-8 text when it decodes cleanly; otherwise marked binary. */
function decodeBody(b64) {
  let bytes;
  try {
    const bin = atob(b64 || "");
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  } catch (e) {
    return { text: null, size: 0, base64: String(b64) };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), size: bytes.length, base64: b64 };
  } catch (e) {
    return { text: null, size: bytes.length, base64: b64 };
  }
}

function bodyPreview(b64, max) {
  const d = decodeBody(b64);
  if (d.text === null) return "(binary, " + d.size + " bytes)";
  return d.text.length > max ? d.text.slice(0, max) + "…" : d.text;
}

function setDatalist(id, values) {
  const dl = $(id);
  const frag = document.createDocumentFragment();
  for (const v of values) frag.append(h("option", { value: v }));
  dl.replaceChildren(frag);
}

function brokerQueuePath(mq) {
  return "/brokers/" + enc(mq.brokerName) + "/topics/" + enc(mq.topic) + "/queues/" + mq.queueId;
}

function queueLabel(mq) {
  return mq.brokerName + ":" + mq.queueId;
}

// Routes, cached for 30 s (as the client does): readable and writable queues of a topic.
const routeCache = new Map();
async function topicQueues(topic, access) {
  let entry = routeCache.get(topic);
  if (!entry || Date.now() - entry.at > 30000) {
    const route = await api("/namesrv/topics/" + enc(topic) + "/route");
    entry = { at: Date.now(), route };
    routeCache.set(topic, entry);
  }
  const bit = access === "write" ? 2 : 4;
  const queues = [];
  const datas = (entry.route.queueDatas || []).slice().sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  for (const qd of datas) {
    if ((qd.perm & bit) !== bit) continue;
    const n = access === "write" ? qd.writeQueueNums : qd.readQueueNums;
    for (let q = 0; q < n; q++) queues.push({ topic, brokerName: qd.brokerName, queueId: q });
  }
  return queues;
}

// ---------------------------------------------------------------- tabs and refresh

const state = { tab: "topics", refreshing: false, again: false };

function showTab(name) {
  if (!TABS.includes(name)) name = "topics";
  state.tab = name;
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.dataset.view !== name;
  for (const b of document.querySelectorAll("nav button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  refreshActive();
}

/** Refreshes the visible view; a call made while one runs is run once after it. */
async function refreshActive() {
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    do {
      state.again = false;
      if (state.tab === "topics") await refreshTopics();
      else if (state.tab === "groups") await refreshGroups();
      else if (state.tab === "cluster") await refreshCluster();
    } while (state.again);
    $("refresh-status").textContent = "updated " + fmtTime(Date.now()).slice(11) + " · every " + REFRESH_MS / 1000 + " s";
  } finally {
    state.refreshing = false;
  }
}

function scheduleRefresh() {
  setTimeout(async () => {
    if ($("auto-refresh").checked && !document.hidden) await refreshActive();
    scheduleRefresh();
  }, REFRESH_MS);
}

// ---------------------------------------------------------------- topics

/** topic -> { tr, cells, prev: { sum, t } | null } */
const topicRows = new Map();

function makeTopicRow(topic) {
  const cells = {};
  const td = (col, cls) => (cells[col] = h("td", { "data-col": col, class: cls }));
  const tr = h(
    "tr",
    { "data-testid": "topic-row", "data-topic": topic },
    h("td", { "data-col": "topic", class: "mono" }, topic),
    td("brokers"),
    td("readQueues", "num"),
    td("writeQueues", "num"),
    td("perm"),
    td("messages", "num"),
    td("maxOffset", "num"),
    td("rate", "num"),
    td("lastStore"),
    td("storage", "num"),
    h(
      "td",
      null,
      h("button", { class: "link", type: "button", title: "send a test message", onclick: () => gotoWithTopic("send", topic) }, "send"),
      h("button", { class: "link", type: "button", title: "search messages by key", onclick: () => gotoWithTopic("search", topic) }, "search"),
      h("button", { class: "link", type: "button", title: "pending transactions", onclick: () => gotoWithTopic("transactions", topic) }, "txns"),
    ),
    td("error", "row-error"),
  );
  cells.rate.textContent = "…";
  return { topic, tr, cells, prev: null };
}

function gotoWithTopic(tab, topic) {
  if (tab === "send") $("send-topic").value = topic;
  if (tab === "search") {
    $("search-key-topic").value = topic;
    $("search-msgid-topic").value = topic;
  }
  if (tab === "transactions") $("tx-topic").value = topic;
  showTab(tab);
  if (tab === "transactions") loadTransactions();
}

function isSystemTopic(topic) {
  return topic.startsWith("%RETRY%") || topic.startsWith("%DLQ%") || topic.startsWith("RMQ_SYS_");
}

function topicVisible(topic) {
  const filter = $("topics-filter").value.trim().toLowerCase();
  if (!$("topics-system").checked && isSystemTopic(topic)) return false;
  return !filter || topic.toLowerCase().includes(filter);
}

function applyTopicFilter() {
  let shown = 0;
  for (const row of topicRows.values()) {
    row.tr.hidden = !topicVisible(row.topic);
    if (!row.tr.hidden) shown++;
  }
  $("topics-count").textContent = shown + " of " + topicRows.size + " topics";
}

async function refreshTopics() {
  let list;
  try {
    list = (await api("/namesrv/topics")).topics || [];
    clearError($("topics-error"));
  } catch (e) {
    showError($("topics-error"), e);
    return;
  }
  list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  setDatalist("topic-list", list.map((t) => t.topic));
  const tbody = $("topics-body");
  const seen = new Set();
  for (const cfg of list) {
    seen.add(cfg.topic);
    let row = topicRows.get(cfg.topic);
    if (!row) {
      row = makeTopicRow(cfg.topic);
      topicRows.set(cfg.topic, row);
    }
    const queues = cfg.queues || [];
    let read = 0;
    let write = 0;
    for (const q of queues) {
      read += q.readQueueNums;
      write += q.writeQueueNums;
    }
    row.cells.brokers.textContent = queues.map((q) => q.brokerName).join(", ");
    row.cells.readQueues.textContent = String(read);
    row.cells.writeQueues.textContent = String(write);
    row.cells.perm.textContent = Array.from(new Set(queues.map((q) => permText(q.perm)))).join(" ");
    tbody.append(row.tr); // keeps the sorted order; rows already there are moved, not rebuilt
  }
  for (const [topic, row] of topicRows) {
    if (!seen.has(topic)) {
      row.tr.remove();
      topicRows.delete(topic);
    }
  }
  applyTopicFilter();
  // Rows are on screen now; statuses fill them in as they arrive, one request per topic.
  const visible = list.map((cfg) => topicRows.get(cfg.topic)).filter((row) => !row.tr.hidden);
  await pool(visible, CONCURRENCY, refreshTopicStatus);
}

async function refreshTopicStatus(row) {
  let status;
  try {
    status = await api("/topics/" + enc(row.topic) + "/status");
  } catch (e) {
    row.cells.error.textContent = errorText(e);
    row.tr.dataset.statusError = e instanceof ApiError ? e.code : "ERROR";
    return;
  }
  const now = performance.now();
  let sumMax = 0;
  let sumMin = 0;
  let last = 0;
  let bytes = 0;
  for (const q of status.queues || []) {
    sumMax += q.maxOffset || 0;
    sumMin += q.minOffset || 0;
    last = Math.max(last, q.lastUpdateTimestamp || 0);
    bytes += q.storageBytes || 0;
  }
  const c = row.cells;
  c.messages.textContent = fmtInt(sumMax - sumMin);
  c.maxOffset.textContent = fmtInt(sumMax);
  c.lastStore.textContent = last ? fmtAgo(last) : "—";
  c.lastStore.title = fmtTime(last);
  c.storage.textContent = fmtBytes(bytes);
  if (row.prev && now > row.prev.t) {
    const rate = Math.max(0, (sumMax - row.prev.sum) / ((now - row.prev.t) / 1000));
    c.rate.textContent = rate.toFixed(1);
    c.rate.dataset.rate = String(rate);
  }
  row.prev = { sum: sumMax, t: now };
  c.error.textContent = "";
  delete row.tr.dataset.statusError;
  row.tr.dataset.loaded = "true";
}

// ---------------------------------------------------------------- consumer groups

/** group -> { tr, cells } */
const groupRows = new Map();
/** group + "\u0000" + topic filter -> [{ t, v }] totalLag samples, kept while the page is open. */
const lagSamples = new Map();
let selectedGroup = null; // { group, topic }
let groupDetailSeq = 0;

function recordLag(group, topic, totalLag) {
  const key = group + "\u0000" + (topic || "");
  let samples = lagSamples.get(key);
  if (!samples) lagSamples.set(key, (samples = []));
  const now = Date.now();
  const last = samples[samples.length - 1];
  if (last && now - last.t < REFRESH_MS / 2) last.v = totalLag; // the list and the detail both saw it
  else samples.push({ t: now, v: totalLag });
  if (samples.length > LAG_SAMPLES_MAX) samples.splice(0, samples.length - LAG_SAMPLES_MAX);
  return samples;
}

function makeGroupRow(group) {
  const cells = {};
  const td = (col, cls) => (cells[col] = h("td", { "data-col": col, class: cls }));
  const tr = h(
    "tr",
    { "data-testid": "group-row", "data-group": group, class: "clickable", onclick: () => selectGroup(group, "") },
    h("td", { "data-col": "group", class: "mono" }, group),
    td("lastSeen"),
    td("members", "num"),
    td("generation", "num"),
    td("totalLag", "num"),
    td("error", "row-error"),
  );
  return { group, tr, cells };
}

async function refreshGroups() {
  await Promise.all([refreshGroupList(), refreshGroupDetail()]);
}

async function refreshGroupList() {
  let groups;
  try {
    groups = (await api("/namesrv/groups")).groups || [];
    clearError($("groups-error"));
  } catch (e) {
    showError($("groups-error"), e);
    return;
  }
  groups.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  setDatalist("group-list", groups.map((g) => g.group));
  const tbody = $("groups-body");
  const seen = new Set();
  for (const g of groups) {
    seen.add(g.group);
    let row = groupRows.get(g.group);
    if (!row) {
      row = makeGroupRow(g.group);
      groupRows.set(g.group, row);
    }
    row.cells.lastSeen.textContent = fmtAgo(g.lastSeenAt);
    row.cells.lastSeen.title = fmtTime(g.lastSeenAt);
    row.tr.classList.toggle("selected", !!selectedGroup && selectedGroup.group === g.group);
    tbody.append(row.tr);
  }
  for (const [group, row] of groupRows) {
    if (!seen.has(group)) {
      row.tr.remove();
      groupRows.delete(group);
    }
  }
  $("groups-count").textContent = groups.length + " groups";
  await pool(Array.from(groupRows.values()), CONCURRENCY, async (row) => {
    const path = "/groups/" + enc(row.group);
    const [info, progress] = await Promise.allSettled([api(path), api(path + "/progress")]);
    const errors = [];
    if (info.status === "fulfilled") {
      row.cells.members.textContent = String(info.value.members.length);
      row.cells.generation.textContent = String(info.value.generation);
    } else errors.push(errorText(info.reason));
    if (progress.status === "fulfilled") {
      row.cells.totalLag.textContent = fmtInt(progress.value.totalLag);
      recordLag(row.group, "", progress.value.totalLag);
    } else errors.push(errorText(progress.reason));
    row.cells.error.textContent = errors.join("; ");
  });
}

function selectGroup(group, topic) {
  $("group-name").value = group;
  $("group-topic").value = topic;
  selectedGroup = { group, topic };
  for (const row of groupRows.values()) row.tr.classList.toggle("selected", row.group === group);
  $("group-detail").hidden = false;
  $("group-title").textContent = group + (topic ? "  ·  topic " + topic : "");
  $("group-detail").dataset.group = group;
  $("members-body").replaceChildren();
  $("lag-body").replaceChildren();
  $("group-total-lag").textContent = "…";
  $("group-meta").textContent = "";
  renderLagChart(lagSamples.get(group + "\u0000" + topic) || []);
  refreshGroupDetail();
}

async function refreshGroupDetail() {
  if (!selectedGroup) return;
  const { group, topic } = selectedGroup;
  const seq = ++groupDetailSeq;
  const path = "/groups/" + enc(group);
  const [info, progress] = await Promise.allSettled([
    api(path),
    api(path + "/progress" + (topic ? "?topic=" + enc(topic) : "")),
  ]);
  if (seq !== groupDetailSeq) return; // a newer selection or refresh owns the panel
  const errors = [];
  if (info.status === "fulfilled") renderMembers(info.value);
  else errors.push(errorText(info.reason));
  if (progress.status === "fulfilled") {
    renderProgress(progress.value);
    renderLagChart(recordLag(group, topic, progress.value.totalLag));
  } else errors.push(errorText(progress.reason));
  if (errors.length) showError($("group-error"), errors.join("\n"));
  else clearError($("group-error"));
}

function renderMembers(info) {
  $("group-meta").textContent =
    "generation " + info.generation + " · strategy " + info.allocateStrategy + " · " + info.members.length + " member" + (info.members.length === 1 ? "" : "s");
  const frag = document.createDocumentFragment();
  for (const m of info.members) {
    const subs = (m.subscriptions || []).map((s) => s.topic + " [" + (s.expressionType === "SQL92" ? "SQL92: " : "") + s.expression + "]").join(", ");
    const assigned = (m.assignment || []).map((q) => q.topic + "/" + queueLabel(q));
    frag.append(
      h(
        "tr",
        { "data-testid": "member-row", "data-client-id": m.clientId },
        h("td", { class: "mono" }, m.clientId),
        h("td", null, m.messageModel),
        h("td", { class: "mono" }, subs),
        h("td", { class: "num", title: assigned.join("\n") }, String(assigned.length)),
        h("td", { title: fmtTime(m.lastHeartbeatAt) }, fmtAgo(m.lastHeartbeatAt)),
      ),
    );
  }
  if (!info.members.length) frag.append(h("tr", null, h("td", { colspan: 5, class: "muted" }, "no live members")));
  $("members-body").replaceChildren(frag);
}

function renderProgress(progress) {
  $("group-total-lag").textContent = fmtInt(progress.totalLag);
  $("group-total-lag").dataset.value = String(progress.totalLag);
  const rows = (progress.queues || []).slice().sort((a, b) => {
    const x = a.messageQueue;
    const y = b.messageQueue;
    if (x.topic !== y.topic) return x.topic < y.topic ? -1 : 1;
    if (x.brokerName !== y.brokerName) return x.brokerName < y.brokerName ? -1 : 1;
    return x.queueId - y.queueId;
  });
  const frag = document.createDocumentFragment();
  for (const q of rows) {
    const mq = q.messageQueue;
    frag.append(
      h(
        "tr",
        { "data-testid": "lag-row", "data-queue": mq.topic + "/" + queueLabel(mq) },
        h("td", { class: "mono" }, mq.topic),
        h("td", null, mq.brokerName),
        h("td", { class: "num" }, String(mq.queueId)),
        h("td", { class: "num", "data-col": "brokerOffset" }, fmtInt(q.brokerOffset)),
        h("td", { class: "num", "data-col": "consumerOffset" }, q.consumerOffset < 0 ? "none" : fmtInt(q.consumerOffset)),
        h("td", { class: "num", "data-col": "lag" }, fmtInt(q.lag)),
        h("td", null, q.lastTimestamp ? fmtAgo(q.lastTimestamp) : "—"),
      ),
    );
  }
  if (!rows.length) frag.append(h("tr", null, h("td", { colspan: 7, class: "muted" }, "no queues (the group subscribes to nothing; name a topic)")));
  $("lag-body").replaceChildren(frag);
}

function renderLagChart(samples) {
  const svg = $("lag-chart");
  const W = 600;
  const H = 120;
  const PAD = 6;
  svg.dataset.samples = String(samples.length);
  const line = svg.querySelector("polyline");
  const dot = svg.querySelector("circle");
  if (!samples.length) {
    line.setAttribute("points", "");
    dot.setAttribute("r", "0");
    $("lag-chart-caption").textContent = "no samples yet";
    return;
  }
  const t0 = samples[0].t;
  const span = Math.max(1, samples[samples.length - 1].t - t0);
  let max = 1;
  for (const s of samples) if (s.v > max) max = s.v;
  const x = (t) => (PAD + ((t - t0) / span) * (W - 2 * PAD)).toFixed(1);
  const y = (v) => (H - PAD - (v / max) * (H - 2 * PAD)).toFixed(1);
  line.setAttribute("points", samples.map((s) => x(s.t) + "," + y(s.v)).join(" "));
  const last = samples[samples.length - 1];
  dot.setAttribute("cx", x(last.t));
  dot.setAttribute("cy", y(last.v));
  dot.setAttribute("r", "3");
  $("lag-chart-caption").textContent =
    samples.length + " samples over " + Math.round(span / 1000) + " s · now " + fmtInt(last.v) + " · max " + fmtInt(max);
}

// ---------------------------------------------------------------- dead-letter queue

let dlqMessages = [];

async function loadDlq() {
  const group = $("dlq-group").value.trim();
  const errEl = $("dlq-error");
  clearError(errEl);
  if (!group) return showError(errEl, "name a consumer group");
  const maxNum = Math.max(1, Number($("dlq-max").value) || 50);
  $("dlq-summary").textContent = "loading…";
  try {
    const r = await api("/groups/" + enc(group) + "/dlq?maxNum=" + maxNum);
    dlqMessages = r.messages || [];
  } catch (e) {
    dlqMessages = [];
    $("dlq-body").replaceChildren();
    $("dlq-summary").textContent = "";
    return showError(errEl, e);
  }
  $("dlq-summary").textContent = dlqMessages.length + " dead-lettered message" + (dlqMessages.length === 1 ? "" : "s") + " of " + group;
  $("dlq-all").checked = false;
  const frag = document.createDocumentFragment();
  for (const m of dlqMessages) {
    frag.append(
      h(
        "tr",
        { "data-testid": "dlq-row", "data-offset-msg-id": m.offsetMsgId },
        h("td", null, h("input", { type: "checkbox", class: "dlq-pick", value: m.offsetMsgId, "aria-label": "select " + m.offsetMsgId })),
        h("td", { class: "mono" }, m.offsetMsgId),
        h("td", { class: "mono" }, m.msgId),
        h("td", { class: "mono" }, (m.properties && m.properties.RETRY_TOPIC) || m.topic),
        h("td", null, m.tags || ""),
        h("td", { class: "mono" }, (m.keys || []).join(" ")),
        h("td", { class: "num" }, String(m.reconsumeTimes)),
        h("td", null, fmtTime(m.storeTimestamp)),
        h("td", { "data-col": "body" }, bodyPreview(m.body, 120)),
      ),
    );
  }
  if (!dlqMessages.length) frag.append(h("tr", null, h("td", { colspan: 9, class: "muted" }, "the dead-letter queue is empty")));
  $("dlq-body").replaceChildren(frag);
}

async function resendDlq() {
  const group = $("dlq-group").value.trim();
  const errEl = $("dlq-error");
  clearError(errEl);
  const ids = Array.from(document.querySelectorAll(".dlq-pick:checked")).map((el) => el.value);
  if (!ids.length) return showError(errEl, "select messages to resend");
  try {
    const r = await postJson("/groups/" + enc(group) + "/dlq/resend", { offsetMsgIds: ids });
    $("dlq-resend-result").textContent = "resent " + r.resent;
    $("dlq-resend-result").dataset.resent = String(r.resent);
  } catch (e) {
    showError(errEl, e);
  }
}

// ---------------------------------------------------------------- message search

let searchSeq = 0;

async function runSearch(kind, request) {
  const seq = ++searchSeq;
  const errEl = $("search-error");
  clearError(errEl);
  $("search-summary").textContent = "searching…";
  $("message-detail").hidden = true;
  let messages;
  try {
    messages = await request();
  } catch (e) {
    if (seq !== searchSeq) return;
    $("search-summary").textContent = "";
    $("search-body").replaceChildren();
    return showError(errEl, e);
  }
  if (seq !== searchSeq) return;
  $("search-summary").textContent = messages.length + " message" + (messages.length === 1 ? "" : "s") + " (" + kind + ")";
  renderMessages(messages);
}

/** Some lookups answer one message, some { messages: [...] }. */
function asMessages(r) {
  if (Array.isArray(r.messages)) return r.messages;
  if (typeof r.offsetMsgId === "string") return [r];
  return [];
}

function renderMessages(messages) {
  const frag = document.createDocumentFragment();
  for (const m of messages) {
    frag.append(
      h(
        "tr",
        { "data-testid": "search-row", "data-offset-msg-id": m.offsetMsgId, "data-msg-id": m.msgId, class: "clickable", onclick: () => showMessage(m) },
        h("td", { class: "mono" }, m.topic),
        h("td", null, queueLabel(m)),
        h("td", { class: "num" }, String(m.queueOffset)),
        h("td", { class: "mono" }, m.msgId),
        h("td", { class: "mono" }, m.offsetMsgId),
        h("td", null, m.tags || ""),
        h("td", { class: "mono" }, (m.keys || []).join(" ")),
        h("td", null, fmtTime(m.storeTimestamp)),
        h("td", { "data-col": "body" }, bodyPreview(m.body, 120)),
      ),
    );
  }
  if (!messages.length) frag.append(h("tr", null, h("td", { colspan: 9, class: "muted" }, "nothing found")));
  $("search-body").replaceChildren(frag);
  if (messages.length === 1) showMessage(messages[0]);
}

function showMessage(m) {
  const d = decodeBody(m.body);
  const meta = Object.assign({}, m);
  delete meta.body;
  const text =
    JSON.stringify(meta, null, 2) +
    "\n\nbody (" + d.size + " bytes" + (d.text === null ? ", not UTF-8; base64" : ", UTF-8") + "):\n" +
    (d.text === null ? d.base64 : d.text);
  $("message-detail").textContent = text;
  $("message-detail").hidden = false;
}

function localTimeMs(value) {
  if (!value) return null;
  const t = new Date(value).getTime();
  return isFinite(t) ? t : null;
}

// ---------------------------------------------------------------- send a test message

const roundRobin = new Map();

async function sendTestMessage() {
  const errEl = $("send-error");
  clearError(errEl);
  const topic = $("send-topic").value.trim();
  const body = $("send-body").value;
  if (!topic) return showError(errEl, "name a topic");
  if (!body) return showError(errEl, "the body may not be empty");
  const button = $("send-submit");
  button.disabled = true;
  try {
    const queues = await topicQueues(topic, "write");
    if (!queues.length) throw new ApiError(0, "NO_WRITABLE_QUEUE", "topic " + topic + " has no writable queue", "");
    const i = roundRobin.get(topic) || 0;
    roundRobin.set(topic, i + 1);
    const mq = queues[i % queues.length];
    const message = { body, bodyEncoding: "utf8" };
    const tags = $("send-tags").value.trim();
    if (tags) message.tags = tags;
    const keys = $("send-keys").value.split(/[\s,]+/).filter(Boolean);
    if (keys.length) message.keys = keys;
    const r = await postJson(brokerQueuePath(mq) + "/messages", { messages: [message] });
    renderSendResult(r);
  } catch (e) {
    if (e instanceof ApiError && e.code === "TOPIC_NOT_EXIST") routeCache.delete(topic);
    showError(errEl, e);
  } finally {
    button.disabled = false;
  }
}

function renderSendResult(r) {
  const dl = $("send-result");
  dl.replaceChildren();
  const add = (k, v, col) => dl.append(h("dt", null, k), h("dd", { class: "mono", "data-col": col }, v));
  add("sendStatus", r.sendStatus, "sendStatus");
  add("msgId", r.msgId, "msgId");
  add("offsetMsgId", r.offsetMsgId, "offsetMsgId");
  add("queue", r.messageQueue.topic + " / " + queueLabel(r.messageQueue), "queue");
  add("queueOffset", String(r.queueOffset), "queueOffset");
  dl.dataset.offsetMsgId = r.offsetMsgId;
  dl.hidden = false;
  $("send-history").prepend(
    h(
      "li",
      { "data-testid": "send-history-item", "data-queue": queueLabel(r.messageQueue), "data-offset-msg-id": r.offsetMsgId },
      h("span", { class: "ok" }, r.sendStatus),
      " " + r.messageQueue.topic + " " + queueLabel(r.messageQueue) + " @" + r.queueOffset + " ",
      h("button", { class: "link", type: "button", onclick: () => lookUpSent(r.offsetMsgId) }, "view"),
    ),
  );
}

function lookUpSent(offsetMsgId) {
  $("search-offset-id").value = offsetMsgId;
  showTab("search");
  $("search-offset-form").requestSubmit();
}

// ---------------------------------------------------------------- transactions

let txSeq = 0;

async function loadTransactions() {
  const seq = ++txSeq;
  const errEl = $("tx-error");
  clearError(errEl);
  const topic = $("tx-topic").value.trim();
  const st = $("tx-state").value;
  if (!topic) return showError(errEl, "name a topic");
  const body = $("tx-body");
  body.replaceChildren();
  delete $("tx-summary").dataset.done;
  $("tx-summary").textContent = "loading…";
  let queues;
  try {
    routeCache.delete(topic);
    queues = await topicQueues(topic, "read");
  } catch (e) {
    if (seq === txSeq) {
      $("tx-summary").textContent = "";
      showError(errEl, e);
    }
    return;
  }
  let answered = 0;
  let found = 0;
  const failures = [];
  const summary = () => {
    $("tx-summary").textContent =
      found + " " + st.toLowerCase().replace("_", " ") + " transaction" + (found === 1 ? "" : "s") + " · " + answered + "/" + queues.length + " queues answered";
  };
  summary();
  // Every queue in parallel (bounded), rows appended as each queue answers.
  await pool(queues, CONCURRENCY, async (mq) => {
    let r;
    try {
      r = await api(brokerQueuePath(mq) + "/transactions?state=" + enc(st) + "&limit=1000");
    } catch (e) {
      failures.push(queueLabel(mq) + ": " + errorText(e));
    }
    if (seq !== txSeq) return;
    answered++;
    if (r) {
      const frag = document.createDocumentFragment();
      for (const t of r.transactions || []) {
        found++;
        frag.append(
          h(
            "tr",
            { "data-testid": "tx-row", "data-transaction-id": t.transactionId },
            h("td", { class: "mono" }, t.transactionId),
            h("td", { class: "mono" }, t.producerGroup),
            h("td", null, queueLabel(mq)),
            h("td", null, t.state),
            h("td", null, fmtTime(t.bornTimestamp)),
            h("td", { class: "num" }, String(t.checkTimes)),
            h("td", null, t.nextCheckAt ? fmtTime(t.nextCheckAt) : "—"),
          ),
        );
      }
      body.append(frag);
    }
    summary();
    if (failures.length) showError(errEl, failures.length + " queue" + (failures.length === 1 ? "" : "s") + " failed:\n" + failures.slice(0, 5).join("\n"));
  });
  if (seq === txSeq) $("tx-summary").dataset.done = "true";
}

// ---------------------------------------------------------------- cluster

const PERM_WRITE = 2;

function byName(a, b) {
  return a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0;
}

async function refreshCluster() {
  let info;
  try {
    info = await api("/namesrv/brokers");
    clearError($("cluster-error"));
  } catch (e) {
    showError($("cluster-error"), e);
    return;
  }
  const brokers = (info.brokers || []).slice().sort(byName);
  const now = Date.now();
  const frag = document.createDocumentFragment();
  let members = 0;
  let partial = 0;
  for (const b of brokers) {
    const ids = Object.keys(b.brokerIds || {}).sort((x, y) => Number(x) - Number(y));
    const slaves = (b.replication && b.replication.slaves) || [];
    if (b.replication && b.replication.partial) partial++;
    const writable = (b.permission & PERM_WRITE) === PERM_WRITE;
    for (const id of ids) {
      members++;
      // Each member registers on its own: its own heartbeat and state.
      const member = (b.members || []).find((m) => String(m.brokerId) === id) || { alive: b.alive, lastUpdateTimestamp: b.lastUpdateTimestamp };
      const ageS = member.lastUpdateTimestamp > 0 ? Math.max(0, Math.round((now - member.lastUpdateTimestamp) / 1000)) : null;
      const isMaster = Number(id) === 0;
      const slave = isMaster ? null : slaves.find((x) => x.brokerId === Number(id)) || null;
      // The lag is for admins only (null replication for other accounts).
      const lag = isMaster ? "-" : b.replication === null ? "admin only" : slave && typeof slave.lagMessages === "number" ? fmtInt(slave.lagMessages) : "unknown";
      const ack = isMaster ? "-" : slave && slave.oldestAckAt ? fmtAgo(slave.oldestAckAt) : "—";
      const notes = [];
      if (slave && slave.failingQueues > 0) notes.push(slave.failingQueues + " queue" + (slave.failingQueues === 1 ? "" : "s") + " failing replication");
      frag.append(
        h(
          "tr",
          { "data-testid": "cluster-row", "data-broker": b.brokerName, "data-broker-id": id, "data-alive": String(!!member.alive) },
          h("td", { class: "mono", "data-col": "broker" }, b.brokerName),
          h("td", { class: "num", "data-col": "brokerId" }, id),
          h("td", { "data-col": "role" }, b.brokerIds[id]),
          h("td", { "data-col": "state", class: member.alive ? "ok" : "row-error" }, member.alive ? "alive" : "EXPIRED"),
          h(
            "td",
            { class: "num", "data-col": "heartbeat", "data-age-seconds": ageS === null ? null : String(ageS), title: fmtTime(member.lastUpdateTimestamp) },
            ageS === null ? "—" : ageS + " s",
          ),
          h("td", { "data-col": "perm", "data-permission": String(b.permission) }, writable ? "rw" : "r (drained)"),
          h("td", { class: "num", "data-col": "topics", title: (b.topics || []).join("\n") }, String(b.topicCount)),
          h(
            "td",
            { class: "num", "data-col": "lag", "data-lag": slave && typeof slave.lagMessages === "number" ? String(slave.lagMessages) : null },
            lag,
          ),
          h("td", { "data-col": "ack", title: slave && slave.oldestAckAt ? fmtTime(slave.oldestAckAt) : null }, ack),
          h("td", { class: "mono", "data-col": "address" }, (b.brokerAddrs && b.brokerAddrs[id]) || ""),
          h("td", { class: "row-error", "data-col": "error" }, notes.join("; ")),
        ),
      );
    }
  }
  if (!members) frag.append(h("tr", null, h("td", { colspan: 11, class: "muted" }, "no brokers registered")));
  $("cluster-body").replaceChildren(frag);
  $("cluster-summary").textContent =
    "cluster " + info.clusterName + " · " + brokers.length + " broker" + (brokers.length === 1 ? "" : "s") + ", " + members + " member" + (members === 1 ? "" : "s") +
    " · heartbeat every " + info.brokerHeartbeatIntervalMs / 1000 + " s, expiry " + info.brokerExpiryMs / 1000 + " s" +
    " · autoCreateTopicEnable " + info.autoCreateTopicEnable;
  $("cluster-replication-note").textContent = partial
    ? "Replication lag of " + partial + " broker" + (partial === 1 ? "" : "s") + " is from a subset of queues (too many to ask each refresh)."
    : "";
  const ns = document.createDocumentFragment();
  for (const name of info.nameServers || []) ns.append(h("li", { "data-testid": "nameserver", "data-nameserver": name }, name));
  if (!(info.nameServers || []).length) ns.append(h("li", { class: "muted" }, "none"));
  $("cluster-nameservers").replaceChildren(ns);
  $("view-cluster").dataset.loadedAt = String(now);
}

// ---------------------------------------------------------------- wiring

function onSubmit(id, fn) {
  $(id).addEventListener("submit", (ev) => {
    ev.preventDefault();
    fn();
  });
}

for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => showTab(b.dataset.tab));
window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));
$("topics-filter").addEventListener("input", applyTopicFilter);
$("topics-system").addEventListener("change", () => {
  applyTopicFilter();
  refreshActive();
});
$("topics-refresh").addEventListener("click", refreshActive);
$("groups-refresh").addEventListener("click", refreshActive);
$("cluster-refresh").addEventListener("click", refreshActive);
onSubmit("group-form", () => {
  const group = $("group-name").value.trim();
  if (!group) return showError($("group-error"), "name a consumer group");
  selectGroup(group, $("group-topic").value.trim());
});
onSubmit("dlq-form", loadDlq);
$("dlq-resend").addEventListener("click", resendDlq);
$("dlq-all").addEventListener("change", (ev) => {
  for (const el of document.querySelectorAll(".dlq-pick")) el.checked = ev.target.checked;
});
onSubmit("search-offset-form", () => {
  const id = $("search-offset-id").value.trim();
  runSearch("by offsetMsgId", async () => [await api("/messages/" + enc(id))]);
});
onSubmit("search-msgid-form", () => {
  const topic = $("search-msgid-topic").value.trim();
  const id = $("search-msgid-id").value.trim();
  runSearch("by msgId", async () => asMessages(await api("/topics/" + enc(topic) + "/messages/by-id/" + enc(id))));
});
onSubmit("search-key-form", () => {
  const topic = $("search-key-topic").value.trim();
  const q = new URLSearchParams({ key: $("search-key").value.trim(), maxNum: String(Math.max(1, Number($("search-key-max").value) || 32)) });
  const begin = localTimeMs($("search-key-begin").value);
  const end = localTimeMs($("search-key-end").value);
  if (begin !== null) q.set("begin", String(begin));
  if (end !== null) q.set("end", String(end));
  runSearch("by key", async () => asMessages(await api("/topics/" + enc(topic) + "/messages?" + q.toString())));
});
onSubmit("send-form", sendTestMessage);
onSubmit("tx-form", loadTransactions);

showTab(location.hash.slice(1) || "topics");
scheduleRefresh();
document.body.dataset.ready = "true";
`;
