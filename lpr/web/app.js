// The browser page of `lpr serve`: reads (live), a read's page, the hotlist editor, camera status and "read a photo".
// Vanilla ES2020, no build step, nothing fetched from outside the server. Every text from the API goes
// through textContent (the el() helper), never innerHTML; pictures behind the token are fetched with
// fetch() + Authorization and shown through blob object URLs.
"use strict";

const TOKEN_KEY = "lpr.token";
const MAX_ROWS = 200;          // the live reads list keeps at most this many rows (more only when paged on purpose)
const PAGE_SIZE = 50;
const CAMERA_REFRESH_MS = 5000;
const LIVE_SILENCE_MS = 45000; // the server sends a keepalive every 15 s; this long without a byte means a dead stream
const BOX_COLOUR = "#39ff14";  // plate boxes on the frame and photo canvases
const IMAGE_CACHE_SIZE = 300;

const state = {
  token: "",
  role: null,      // "admin" | "read" once signed in
  signedIn: false,
  gen: 0,          // bumped on each view change; async work of an older view checks it and stops
  cleanup: [],     // functions run when the current view goes away
  filters: { plate: "", near: false, camera: "", since: "", until: "", hotlistOnly: false },
  cameras: new Set(),
};

// ---------------------------------------------------------------- DOM helpers

/** An element with props (class, text, testid, dataset, on*, attributes) and children (nodes or texts, appended as text). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector, root = document) => root.querySelector(selector);

function percent(confidence) {
  return typeof confidence === "number" && Number.isFinite(confidence) ? `${(confidence * 100).toFixed(1)}%` : "—";
}

/** An ISO time in, a <time> showing it in the browser's local time out (the ISO text in its title). */
function timeEl(iso) {
  if (!iso) return el("span", { class: "muted", text: "—" });
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  return el("time", { datetime: iso, title: iso, text });
}

function normalizePlate(text) {
  return String(text || "").toUpperCase().replace(/[\s-]+/g, "");
}

// OCR look-alikes, as lpr.hotlist folds them: each folds to its group's first character.
const LOOKALIKES = ["0ODQ", "1IL", "8B", "5S", "2Z", "6G"];
const FOLD = new Map(LOOKALIKES.flatMap((group) => [...group.slice(1)].map((c) => [c, group[0]])));
const fold = (text) => [...text].map((c) => FOLD.get(c) || c).join("");

function withinOneEdit(a, b) {
  if (a.length === b.length) return [...a].filter((c, i) => c !== b[i]).length <= 1;
  if (Math.abs(a.length - b.length) !== 1) return false;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < short.length && short[i] === long[i]) i += 1;
  return short.slice(i) === long.slice(i + 1);
}

/** Whether plate is query up to OCR look-alikes or within one edit of it (what the server's near search finds). */
function isNearPlate(query, plate) {
  return fold(query) === fold(plate) || withinOneEdit(query, plate);
}

/** A datetime-local value (the browser's local time) in, UTC ISO 8601 with Z out; "" stays "". */
function localToIso(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

// ---------------------------------------------------------------- notices

let noticeTimer = null;

/** A one-line message in the bar under the top bar; errors stay until the next message, others fade after a while. */
function notify(message, kind = "info") {
  const box = $("#notice");
  clearTimeout(noticeTimer);
  box.textContent = message;
  box.className = `notice ${kind}`;
  box.hidden = false;
  if (kind !== "error") noticeTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

function clearNotice() {
  clearTimeout(noticeTimer);
  $("#notice").hidden = true;
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function detailOf(body, fallback) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) return body.detail.map((d) => (d && d.msg) || JSON.stringify(d)).join("; ");
  return fallback;
}

/** One API call with the token: JSON (or the raw Response with raw) out, ApiError with the server's detail on 4xx/5xx; a 401 asks for the token again. */
async function api(path, { method = "GET", json, body, raw = false, signal } = {}) {
  const headers = { Authorization: `Token ${state.token}` };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The server cannot be reached.");
  }
  if (response.status === 401) {
    let detail = "the token was refused";
    try { detail = detailOf(await response.json(), detail); } catch { /* not JSON */ }
    askForToken(state.token ? "The server refused this token. Enter a token again." : "");
    throw new ApiError(401, detail);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`.trim();
    try { detail = detailOf(await response.json(), detail); } catch { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// Object URLs of pictures behind the token, least recently used first; evicted ones are revoked.
const imageCache = new Map();

async function objectUrl(url) {
  if (imageCache.has(url)) {
    const cached = imageCache.get(url);
    imageCache.delete(url);
    imageCache.set(url, cached);
    return cached;
  }
  const response = await api(url, { raw: true });
  const objUrl = URL.createObjectURL(await response.blob());
  imageCache.set(url, objUrl);
  while (imageCache.size > IMAGE_CACHE_SIZE) {
    const [oldest, old] = imageCache.entries().next().value;
    imageCache.delete(oldest);
    URL.revokeObjectURL(old);
  }
  return objUrl;
}

async function authedBlob(url) {
  const response = await api(url, { raw: true });
  return response.blob();
}

/** An <img> for a picture behind the token: filled in when fetched, marked .failed (with a title) when not. */
function authedImage(url, props) {
  const img = el("img", { ...props, alt: props.alt || "" });
  objectUrl(url)
    .then((src) => { img.src = src; })
    .catch((error) => {
      img.classList.add("failed");
      img.title = `not loaded: ${error.message}`;
    });
  return img;
}

// ---------------------------------------------------------------- sign in

function askForToken(message = "") {
  const wasSignedIn = state.signedIn;
  state.signedIn = false;
  stopLive();
  if (wasSignedIn) leaveView();
  $("#view").replaceChildren();
  $("#signout").hidden = true;
  $("#role").textContent = "";
  const error = $("#login-error");
  error.textContent = message;
  error.hidden = !message;
  $("#login").hidden = false;
  const input = $("#token-input");
  input.value = "";
  input.focus();
}

async function signIn(token) {
  state.token = token;
  let who;
  try {
    who = await api("/v1/whoami");
  } catch (error) {
    if (error.status !== 401) askForToken(error.message);
    return;
  }
  localStorage.setItem(TOKEN_KEY, token);
  state.role = who && who.role === "admin" ? "admin" : "read";
  state.signedIn = true;
  $("#login").hidden = true;
  $("#signout").hidden = false;
  const role = $("#role");
  role.textContent = state.role === "admin" ? "admin" : "read-only";
  role.className = `role ${state.role}`;
  document.body.dataset.role = state.role;
  startLive();
  route();
}

function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  state.token = "";
  state.role = null;
  delete document.body.dataset.role;
  clearNotice();
  askForToken();
}

// ---------------------------------------------------------------- live events (SSE over fetch, since EventSource cannot send headers)

const live = { controller: null, listeners: new Set(), connectedOnce: false };

function setLiveStatus(kind, text) {
  const badge = $("#live-status");
  badge.className = `live ${kind}`;
  badge.textContent = text;
}

function stopLive() {
  if (live.controller) live.controller.abort();
  live.controller = null;
  live.connectedOnce = false;
  setLiveStatus("off", "offline");
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** A text/event-stream body in; onEvent(type, data) for each complete event (comments skipped). */
async function readEventStream(body, onEvent, onBytes) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let type = "";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onBytes();
    buffer += decoder.decode(value, { stream: true });
    for (;;) {
      const end = buffer.search(/[\r\n]/);
      if (end < 0) break;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
      if (buffer[end] === "\r" && end === buffer.length - 1) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1));
      if (line === "") {
        if (data.length) onEvent(type || "message", data.join("\n"));
        type = "";
        data = [];
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let fieldValue = colon < 0 ? "" : line.slice(colon + 1);
        if (fieldValue.startsWith(" ")) fieldValue = fieldValue.slice(1);
        if (field === "event") type = fieldValue;
        else if (field === "data") data.push(fieldValue);
      }
    }
  }
}

function startLive() {
  stopLive();
  const controller = new AbortController();
  live.controller = controller;
  const { signal } = controller;
  (async () => {
    let delay = 1000;
    while (!signal.aborted) {
      // Each connection gets its own abort so the silence watchdog can drop a dead one and reconnect.
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      signal.addEventListener("abort", stop, { once: true });
      let watchdog = null;
      const feed = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => attempt.abort(), LIVE_SILENCE_MS);
      };
      try {
        setLiveStatus("connecting", live.connectedOnce ? "reconnecting…" : "connecting…");
        const response = await fetch("/v1/events", {
          headers: { Authorization: `Token ${state.token}`, Accept: "text/event-stream" },
          signal: attempt.signal,
          cache: "no-store",
        });
        if (response.status === 401) {
          askForToken("The server refused this token. Enter a token again.");
          return;
        }
        if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
        const reconnected = live.connectedOnce;
        live.connectedOnce = true;
        setLiveStatus("on", "live");
        delay = 1000;
        feed();
        if (reconnected) live.listeners.forEach((l) => l.onReconnect && l.onReconnect());
        await readEventStream(response.body, (type, data) => {
          if (type !== "read") return;
          let read;
          try { read = JSON.parse(data); } catch { return; }
          if (read && read.camera) state.cameras.add(read.camera);
          live.listeners.forEach((l) => l.onRead && l.onRead(read));
        }, feed);
      } catch (error) {
        if (signal.aborted) return;
      } finally {
        clearTimeout(watchdog);
        signal.removeEventListener("abort", stop);
      }
      if (signal.aborted) return;
      setLiveStatus("off", "reconnecting…");
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 15000);
    }
  })();
}

// ---------------------------------------------------------------- routing

function leaveView() {
  state.gen += 1;
  for (const fn of state.cleanup.splice(0)) {
    try { fn(); } catch { /* a view's cleanup must not stop the next view */ }
  }
}

function route() {
  if (!state.signedIn) return;
  leaveView();
  const gen = state.gen;
  const alive = () => gen === state.gen && state.signedIn;
  const parts = (location.hash.replace(/^#\/?/, "").split("?")[0] || "").split("/").filter(Boolean).map(decodeURIComponent);
  let name = "reads";
  let view;
  if (parts.length === 0) view = () => readsView(alive);
  else if (parts[0] === "read" && parts.length === 2) { name = "reads"; view = () => readView(parts[1], alive); }
  else if (parts[0] === "hotlist" && parts.length === 1) { name = "hotlist"; view = () => hotlistView(alive); }
  else if (parts[0] === "cameras" && parts.length === 1) { name = "cameras"; view = () => camerasView(alive); }
  else if (parts[0] === "photo" && parts.length === 1) { name = "photo"; view = () => photoView(alive); }
  else { name = ""; view = () => notFoundView(); }
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.route === name);
    if (link.dataset.route === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clearNotice();
  const main = $("#view");
  main.replaceChildren();
  main.dataset.view = name || "none";
  view();
  window.scrollTo(0, 0);
}

function notFoundView() {
  $("#view").append(el("section", { class: "card" },
    el("h1", { text: "Not found" }),
    el("p", {}, "No such page. ", el("a", { href: "#/", text: "Back to the reads" }))));
}

// ---------------------------------------------------------------- reads list

function matchBadge(match) {
  if (!match) return el("span", { class: "muted", text: "—" });
  const how = match.kind === "exact" ? "exact" : match.kind === "lookalike" ? "look-alike" : "one edit";
  return el("span", { class: `badge match-${match.kind}`, testid: "match", title: match.note || "" },
    `${match.list}: ${match.plate}`, el("small", { text: ` (${how})` }));
}

function matchClass(match) {
  if (!match) return "";
  return match.kind === "exact" ? "hit hit-exact" : "hit hit-near";
}

function readRow(read) {
  const href = `#/read/${encodeURIComponent(read.id)}`;
  const thumb = read.crop_url
    ? authedImage(read.crop_url, { class: "crop", alt: `plate ${read.plate}`, testid: "crop" })
    : el("span", { class: "crop none", text: "no crop" });
  const row = el("tr", { class: `read ${matchClass(read.match)}`, testid: "read", dataset: { id: read.id, firstSeen: read.first_seen } },
    el("td", { class: "thumb" }, el("a", { href, tabindex: "-1" }, thumb)),
    el("td", {}, el("a", { class: "plate", href, text: read.plate })),
    el("td", { class: "conf num", text: percent(read.confidence) }),
    el("td", { class: "camera", text: read.camera }),
    el("td", { class: "time" }, timeEl(read.first_seen)),
    el("td", { class: "match" }, matchBadge(read.match), read.match && read.match.note ? el("div", { class: "note", text: read.match.note }) : null));
  row.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    location.hash = href;
  });
  return row;
}

function filtersActive(f) {
  return Boolean(f.plate || f.camera || f.since || f.until || f.hotlistOnly);
}

function passesFilters(read, f) {
  if (f.plate) {
    const query = normalizePlate(f.plate);
    if (f.near ? !isNearPlate(query, read.plate) : read.plate !== query) return false;
  }
  if (f.camera && read.camera !== f.camera) return false;
  const seen = new Date(read.first_seen).getTime();
  if (f.since && seen < new Date(f.since).getTime()) return false;
  if (f.until && seen >= new Date(f.until).getTime()) return false;
  if (f.hotlistOnly && !read.match) return false;
  return true;
}

function readsQuery(f, cursor) {
  const params = new URLSearchParams();
  const plate = normalizePlate(f.plate);
  if (plate) {
    params.set("plate", plate);
    if (f.near) params.set("near", "true");
  }
  if (f.camera) params.set("camera", f.camera);
  const since = localToIso(f.since);
  const until = localToIso(f.until);
  if (since) params.set("since", since);
  if (until) params.set("until", until);
  if (f.hotlistOnly) params.set("hotlist_only", "true");
  params.set("limit", String(PAGE_SIZE));
  if (cursor) params.set("cursor", cursor);
  return `/v1/reads?${params}`;
}

function readsView(alive) {
  const f = state.filters;
  const cameraList = el("datalist", { id: "camera-names" });
  const form = el("form", { id: "filters", class: "filters card", testid: "filters", role: "search" },
    el("div", { class: "group" },
      el("label", {}, "Plate", el("input", { id: "f-plate", name: "plate", value: f.plate, placeholder: "e.g. ABC123", autocomplete: "off", spellcheck: "false", testid: "filter-plate" })),
      el("label", { class: "check", title: "also plates that differ by OCR look-alikes (0/O, 8/B…) or one character" },
        el("input", { id: "f-near", name: "near", type: "checkbox", checked: f.near, testid: "filter-near" }), "near matches")),
    el("label", {}, "Camera", el("input", { id: "f-camera", name: "camera", value: f.camera, list: "camera-names", placeholder: "any", autocomplete: "off", testid: "filter-camera" })),
    el("label", {}, "From", el("input", { id: "f-since", name: "since", type: "datetime-local", value: f.since, testid: "filter-since" })),
    el("label", {}, "Until", el("input", { id: "f-until", name: "until", type: "datetime-local", value: f.until, testid: "filter-until" })),
    el("div", { class: "group" },
      el("label", { class: "check" }, el("input", { id: "f-hot", name: "hotlist_only", type: "checkbox", checked: f.hotlistOnly, testid: "filter-hotlist" }), "hotlist matches only")),
    el("div", { class: "buttons" },
      el("button", { type: "submit", class: "primary", testid: "search", text: "Search" }),
      el("button", { type: "button", id: "clear-filters", testid: "clear", text: "Clear" })),
    cameraList);
  const hint = el("button", { type: "button", id: "new-hint", class: "hint", testid: "new-hint", hidden: true });
  const status = el("p", { id: "reads-status", class: "status muted", testid: "reads-status", "aria-live": "polite" });
  const body = el("tbody", { id: "reads-body", testid: "reads" });
  const table = el("table", { id: "reads-table", class: "reads" },
    el("thead", {}, el("tr", {},
      el("th", { text: "Crop" }), el("th", { text: "Plate" }), el("th", { class: "num", text: "Confidence" }),
      el("th", { text: "Camera" }), el("th", { text: "Time" }), el("th", { text: "Hotlist" }))),
    body);
  const empty = el("p", { id: "reads-empty", class: "empty", testid: "reads-empty", hidden: true, text: "No reads match." });
  const more = el("button", { type: "button", id: "more", class: "more", testid: "more", hidden: true, text: "More" });
  const dropped = el("p", { class: "muted small", hidden: true, text: "Older rows were dropped from the live list; search again to page back." });
  $("#view").append(
    el("section", { class: "reads-view" },
      el("div", { class: "heading" }, el("h1", { text: "Reads" }), el("span", { class: "muted", text: "newest first, updating live" })),
      form, hint, status, el("div", { class: "table-wrap card" }, table, empty), more, dropped));

  let cursor = null;
  let keep = MAX_ROWS;       // rows kept when live reads arrive; grows only when the user pages
  let hidden = 0;            // live reads the current filters leave out
  let loading = false;

  const fillCameras = () => {
    cameraList.replaceChildren(...[...state.cameras].sort().map((name) => el("option", { value: name })));
  };
  api("/v1/cameras").then((data) => {
    if (!alive()) return;
    for (const c of (data && data.cameras) || []) state.cameras.add(c.camera);
    fillCameras();
  }).catch(() => { /* the datalist is only a convenience */ });

  const rowsById = () => new Map([...body.children].map((row) => [row.dataset.id, row]));

  const updateCounts = () => {
    const n = body.children.length;
    empty.hidden = n > 0;
    table.hidden = n === 0;
    status.textContent = n ? `${n} read${n === 1 ? "" : "s"} shown${filtersActive(f) ? " (filtered)" : ""}` : "";
    more.hidden = !cursor;
  };

  const showHint = () => {
    hint.hidden = hidden === 0;
    hint.textContent = `${hidden} new read${hidden === 1 ? "" : "s"} outside the filter — show all`;
  };

  const load = async (append) => {
    if (loading) return;
    loading = true;
    more.disabled = true;
    status.textContent = "Loading…";
    try {
      const data = await api(readsQuery(f, append ? cursor : null));
      if (!alive()) return;
      const reads = (data && data.reads) || [];
      if (!append) {
        body.replaceChildren();
        keep = MAX_ROWS;
        dropped.hidden = true;
      }
      const existing = rowsById();
      for (const read of reads) {
        state.cameras.add(read.camera);
        if (!existing.has(read.id)) body.append(readRow(read));
      }
      if (append) keep = Math.max(keep, body.children.length);
      cursor = data && data.next_cursor ? data.next_cursor : null;
      fillCameras();
    } catch (error) {
      if (!alive()) return;
      if (error.status !== 401) notify(`Reads: ${error.message}`, "error");
    } finally {
      loading = false;
      more.disabled = false;
      if (alive()) updateCounts();
    }
  };

  const readForm = () => {
    f.plate = $("#f-plate").value.trim();
    f.near = $("#f-near").checked;
    f.camera = $("#f-camera").value.trim();
    f.since = $("#f-since").value;
    f.until = $("#f-until").value;
    f.hotlistOnly = $("#f-hot").checked;
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    readForm();
    if (f.near && !f.plate) {
      notify("A near search needs a plate.", "error");
      return;
    }
    clearNotice();
    hidden = 0;
    showHint();
    load(false);
  });
  $("#clear-filters").addEventListener("click", () => {
    Object.assign(f, { plate: "", near: false, camera: "", since: "", until: "", hotlistOnly: false });
    form.reset();
    for (const input of form.querySelectorAll("input")) {
      if (input.type === "checkbox") input.checked = false;
      else input.value = "";
    }
    hidden = 0;
    showHint();
    load(false);
  });
  hint.addEventListener("click", () => $("#clear-filters").click());
  more.addEventListener("click", () => load(true));

  // The list is in the server's order, first_seen then id, newest first; a live read goes where it sorts
  // (usually the top), or nowhere when it sorts below the last row and "more" will bring it.
  const sortsBefore = (read, row) => {
    const a = Date.parse(read.first_seen);
    const b = Date.parse(row.dataset.firstSeen);
    return a > b || (a === b && read.id > row.dataset.id);
  };

  const addLive = (read) => {
    const existing = rowsById().get(read.id);
    const row = readRow(read);
    if (existing) {
      existing.replaceWith(row);
    } else {
      const before = [...body.children].find((other) => sortsBefore(read, other));
      if (before) body.insertBefore(row, before);
      else if (cursor) return;
      else body.append(row);
      row.classList.add("fresh");
      setTimeout(() => row.classList.remove("fresh"), 2500);
    }
    while (body.children.length > keep) {
      body.lastElementChild.remove();
      cursor = null;
      dropped.hidden = false;
    }
    updateCounts();
  };

  const listener = {
    onRead(read) {
      if (!alive()) return;
      if (passesFilters(read, { ...f, since: localToIso(f.since), until: localToIso(f.until) })) addLive(read);
      else {
        hidden += 1;
        showHint();
      }
    },
    async onReconnect() {
      // Reads stored while the stream was down: the newest page, adding what is missing at the top.
      try {
        const data = await api(readsQuery(f, null));
        if (!alive()) return;
        const existing = rowsById();
        const missing = ((data && data.reads) || []).filter((r) => !existing.has(r.id));
        for (const read of missing.reverse()) addLive(read);
      } catch { /* the next reconnect tries again */ }
    },
  };
  live.listeners.add(listener);
  state.cleanup.push(() => live.listeners.delete(listener));
  load(false);
}

// ---------------------------------------------------------------- a read's page

/** A blob in, an ImageBitmap (or a loaded <img> where createImageBitmap is missing) out. */
async function decodeBlob(blob) {
  if (window.createImageBitmap) return createImageBitmap(blob);
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** An image and labelled boxes ([x,y,w,h] in its pixels) in; the canvas sized to the image with the boxes drawn. */
function drawBoxes(canvas, image, boxes) {
  const width = image.width;
  const height = image.height;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const line = Math.max(3, Math.round(Math.max(width, height) / 300));
  const font = Math.max(14, Math.round(Math.max(width, height) / 45));
  ctx.lineJoin = "round";
  ctx.font = `bold ${font}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  for (const { box, label } of boxes) {
    if (!Array.isArray(box) || box.length !== 4) continue;
    const [x, y, w, h] = box;
    ctx.strokeStyle = BOX_COLOUR;
    ctx.lineWidth = line;
    ctx.strokeRect(x, y, w, h);
    if (label) {
      const pad = Math.round(font / 4);
      const textWidth = ctx.measureText(label).width;
      const top = y - line / 2 - font - pad * 2 >= 0 ? y - line / 2 : y + h + line / 2 + font + pad * 2;
      ctx.fillStyle = "rgba(0, 0, 0, 0.75)";
      ctx.fillRect(x - line / 2, top - font - pad * 2, textWidth + pad * 2, font + pad * 2);
      ctx.fillStyle = BOX_COLOUR;
      ctx.fillText(label, x - line / 2 + pad, top - pad);
    }
  }
  canvas.dataset.drawn = "true";
}

function detailList(pairs) {
  return el("dl", { class: "details" }, pairs.flatMap(([name, value, testid]) => [
    el("dt", { text: name }),
    el("dd", { testid }, value instanceof Node ? value : String(value)),
  ]));
}

function candidatesTable(candidates, testid) {
  if (!candidates || candidates.length === 0) return el("p", { class: "muted", testid, text: "No other candidates." });
  return el("table", { class: "candidates", testid },
    el("thead", {}, el("tr", {}, el("th", { text: "Candidate" }), el("th", { class: "num", text: "Confidence" }))),
    el("tbody", {}, candidates.map((c) => el("tr", { testid: "candidate" },
      el("td", { class: "plate", text: c.plate }), el("td", { class: "num conf", text: percent(c.confidence) })))));
}

async function readView(id, alive) {
  const main = $("#view");
  const section = el("section", { class: "read-view", testid: "read-page", dataset: { id } },
    el("p", {}, el("a", { href: "#/", class: "back", text: "← Reads" })),
    el("p", { class: "muted", text: "Loading…" }));
  main.append(section);
  let read;
  try {
    read = await api(`/v1/reads/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!alive() || error.status === 401) return;
    section.replaceChildren(el("p", {}, el("a", { href: "#/", class: "back", text: "← Reads" })),
      el("div", { class: "card error", testid: "read-error", text: error.status === 404 ? `No read with id ${id}.` : `Read ${id}: ${error.message}` }));
    return;
  }
  if (!alive()) return;
  const canvas = el("canvas", { id: "frame-canvas", class: "frame", testid: "frame" });
  const frameStatus = el("p", { class: "muted small", text: read.frame_url ? "Loading the frame…" : "No frame was saved for this read." });
  const offset = Array.isArray(read.source_offset_s) ? `${read.source_offset_s[0].toFixed(1)} s – ${read.source_offset_s[1].toFixed(1)} s` : "live stream";
  const banner = read.match
    ? el("div", { class: `banner ${matchClass(read.match)}`, testid: "match-banner" },
      el("strong", { text: `Hotlist match: ${read.match.plate}` }),
      ` on list “${read.match.list}” (${read.match.kind}${read.match.kind !== "exact" ? `, read as ${read.match.read_text}` : ""})`,
      read.match.note ? el("div", { class: "note", text: read.match.note }) : null)
    : null;
  section.replaceChildren(...[
    el("p", {}, el("a", { href: "#/", class: "back", text: "← Reads" })),
    el("div", { class: "heading" }, el("h1", { class: "plate big", testid: "read-plate", text: read.plate }),
      el("span", { class: "conf-badge", text: percent(read.confidence) })),
    banner,
    el("div", { class: "read-grid" },
      el("figure", { class: "card frame-card" }, canvas, frameStatus),
      el("aside", { class: "card" },
        read.crop_url ? authedImage(read.crop_url, { class: "crop big", alt: `plate ${read.plate}`, testid: "detail-crop" }) : null,
        detailList([
          ["Confidence", percent(read.confidence), "detail-confidence"],
          ["Camera", read.camera, "detail-camera"],
          ["Source", read.source, "detail-source"],
          ["First seen", timeEl(read.first_seen), "detail-first-seen"],
          ["Last seen", timeEl(read.last_seen), "detail-last-seen"],
          ["Frames seen", read.frames_seen, "detail-frames"],
          ["In the source", offset, "detail-offset"],
          ["Plate box", Array.isArray(read.box) ? read.box.join(", ") : "—", "detail-box"],
          ["Id", read.id, "detail-id"],
        ]),
        el("h2", { text: "Candidates" }),
        candidatesTable(read.candidates, "candidates"))),
  ].filter(Boolean));
  if (read.frame_url) {
    try {
      const image = await decodeBlob(await authedBlob(read.frame_url));
      if (!alive()) return;
      drawBoxes(canvas, image, [{ box: read.box, label: read.plate }]);
      frameStatus.textContent = `Full frame, ${image.width}×${image.height}; the plate box is drawn in green.`;
    } catch (error) {
      if (!alive() || error.status === 401) return;
      frameStatus.textContent = `The frame could not be loaded: ${error.message}`;
    }
  }
}

// ---------------------------------------------------------------- hotlist editor

function hotlistView(alive) {
  const admin = state.role === "admin";
  const count = el("span", { class: "muted", testid: "hotlist-count" });
  const filter = el("input", { id: "hotlist-filter", type: "search", placeholder: "Filter by plate, list or note", testid: "hotlist-filter" });
  const body = el("tbody", { id: "hotlist-body", testid: "hotlist" });
  const empty = el("p", { class: "empty", testid: "hotlist-empty", hidden: true, text: "The hotlist is empty." });
  const table = el("table", { class: "hotlist" },
    el("thead", {}, el("tr", {}, el("th", { text: "Plate" }), el("th", { text: "List" }), el("th", { text: "Note" }), el("th", { text: "Added by" }),
      admin ? el("th", { class: "actions", text: "" }) : null)),
    body);
  let entries = [];

  const render = () => {
    const query = filter.value.trim().toUpperCase();
    const shown = entries.filter((e) => !query || [e.plate, e.list, e.note].some((t) => String(t || "").toUpperCase().includes(query)));
    body.replaceChildren(...shown.map((entry) => el("tr", { testid: "hotlist-entry", dataset: { plate: entry.plate, list: entry.list } },
      el("td", { class: "plate", text: entry.plate }),
      el("td", { class: "list", text: entry.list }),
      el("td", { class: "note", text: entry.note || "" }),
      el("td", { class: "source muted", text: entry.source || "" }),
      admin ? el("td", { class: "actions" }, el("button", {
        type: "button", class: "danger small", testid: "hotlist-delete", text: "Delete",
        onclick: () => remove(entry),
      })) : null)));
    count.textContent = `${entries.length} entr${entries.length === 1 ? "y" : "ies"}${shown.length !== entries.length ? `, ${shown.length} shown` : ""}`;
    empty.hidden = entries.length > 0;
    table.hidden = shown.length === 0;
  };

  const load = async () => {
    try {
      const data = await api("/v1/hotlist");
      if (!alive()) return;
      entries = (data && data.entries) || [];
      render();
    } catch (error) {
      if (alive() && error.status !== 401) notify(`Hotlist: ${error.message}`, "error");
    }
  };

  const remove = async (entry) => {
    if (!window.confirm(`Delete ${entry.plate} from list “${entry.list}”?`)) return;
    try {
      await api(`/v1/hotlist/${encodeURIComponent(entry.plate)}?${new URLSearchParams({ list: entry.list })}`, { method: "DELETE" });
      notify(`Deleted ${entry.plate} from ${entry.list}.`, "success");
    } catch (error) {
      if (error.status !== 401) notify(`Delete: ${error.message}`, "error");
    }
    if (alive()) load();
  };

  let editor;
  if (admin) {
    const addForm = el("form", { id: "hotlist-add", class: "inline-form", testid: "hotlist-add", autocomplete: "off" },
      el("label", {}, "Plate", el("input", { name: "plate", required: true, placeholder: "ABC123", spellcheck: "false", testid: "add-plate" })),
      el("label", {}, "List", el("input", { name: "list", required: true, placeholder: "stolen", testid: "add-list" })),
      el("label", { class: "grow" }, "Note", el("input", { name: "note", placeholder: "for whoever gets the alert", testid: "add-note" })),
      el("button", { type: "submit", class: "primary", testid: "add-submit", text: "Add" }));
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(addForm);
      const entry = { plate: String(data.get("plate")).trim(), list: String(data.get("list")).trim(), note: String(data.get("note") || "").trim() };
      const button = addForm.querySelector("button");
      button.disabled = true;
      try {
        const added = await api("/v1/hotlist", { method: "POST", json: entry });
        notify(`Added ${(added && added.plate) || entry.plate} to ${(added && added.list) || entry.list}.`, "success");
        addForm.elements.plate.value = "";
        addForm.elements.note.value = "";
        addForm.elements.plate.focus();
      } catch (error) {
        if (error.status !== 401) notify(`Add: ${error.message}`, "error");
      } finally {
        button.disabled = false;
      }
      if (alive()) load();
    });

    const result = el("div", { id: "import-result", class: "import-result", testid: "import-result", "aria-live": "polite" });
    const importForm = el("form", { id: "hotlist-import", class: "inline-form", testid: "hotlist-import" },
      el("label", { class: "grow" }, "CSV file (plate,list,note per row)",
        el("input", { name: "file", type: "file", accept: ".csv,text/csv,text/plain", required: true, testid: "import-file" })),
      el("button", { type: "submit", testid: "import-submit", text: "Import CSV" }));
    importForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = importForm.elements.file.files[0];
      if (!file) return;
      const body = new FormData();
      body.append("file", file, file.name);
      const button = importForm.querySelector("button");
      button.disabled = true;
      result.replaceChildren(el("span", { class: "muted", text: "Importing…" }));
      try {
        const data = await api("/v1/hotlist/import", { method: "POST", body });
        const skipped = (data && data.skipped) || [];
        result.replaceChildren(
          el("p", { testid: "import-count", text: `Imported ${data ? data.imported : 0} entr${data && data.imported === 1 ? "y" : "ies"} from ${file.name}${skipped.length ? `; skipped ${skipped.length} row${skipped.length === 1 ? "" : "s"}:` : "."}` }),
          ...(skipped.length ? [el("ul", { class: "skipped", testid: "import-skipped" }, skipped.map((line) => el("li", { text: line })))] : []));
        importForm.reset();
      } catch (error) {
        result.replaceChildren();
        if (error.status !== 401) notify(`Import: ${error.message}`, "error");
      } finally {
        button.disabled = false;
      }
      if (alive()) load();
    });
    editor = el("div", { class: "card editor", testid: "hotlist-editor" }, el("h2", { text: "Add a plate" }), addForm,
      el("h2", { text: "Import" }), importForm, result);
  } else {
    editor = el("p", { class: "card readonly", testid: "readonly-note", text: "This token is read-only: the hotlist can be viewed but not changed." });
  }

  filter.addEventListener("input", render);
  $("#view").append(el("section", { class: "hotlist-view" },
    el("div", { class: "heading" }, el("h1", { text: "Hotlist" }), count),
    editor,
    el("div", { class: "card" }, el("div", { class: "toolbar" }, filter), el("div", { class: "table-wrap" }, table), empty)));
  load();
}

// ---------------------------------------------------------------- cameras

function camerasView(alive) {
  const body = el("tbody", { id: "cameras-body", testid: "cameras" });
  const empty = el("p", { class: "empty", testid: "cameras-empty", hidden: true, text: "No camera has reported yet (cameras report while `lpr watch` runs)." });
  const updated = el("span", { class: "muted small" });
  const table = el("table", { class: "cameras" },
    el("thead", {}, el("tr", {}, ["Camera", "Status", "FPS", "Frames read", "Dropped", "Reconnects", "Last frame", "Last error", "Source"]
      .map((name) => el("th", { class: ["FPS", "Frames read", "Dropped", "Reconnects"].includes(name) ? "num" : null, text: name })))),
    body);
  $("#view").append(el("section", { class: "cameras-view" },
    el("div", { class: "heading" }, el("h1", { text: "Cameras" }), updated),
    el("div", { class: "card table-wrap" }, table, empty)));

  const statusBadge = (c) => {
    if (c.stale) return el("span", { class: "badge stale", title: `no status update since ${c.updated_at}`, text: "stale" });
    return c.connected ? el("span", { class: "badge ok", text: "connected" }) : el("span", { class: "badge bad", text: "disconnected" });
  };

  let timer = null;
  const load = async () => {
    try {
      const data = await api("/v1/cameras");
      if (!alive()) return;
      const cameras = (data && data.cameras) || [];
      body.replaceChildren(...cameras.map((c) => {
        state.cameras.add(c.camera);
        return el("tr", { testid: "camera", dataset: { camera: c.camera }, class: c.stale ? "stale" : c.connected ? "" : "down" },
          el("td", { class: "camera strong", text: c.camera }),
          el("td", {}, statusBadge(c)),
          el("td", { class: "num", text: typeof c.fps === "number" ? c.fps.toFixed(1) : "—" }),
          el("td", { class: "num", text: c.frames_read ?? "—" }),
          el("td", { class: "num", text: c.frames_dropped ?? "—" }),
          el("td", { class: "num", text: c.reconnects ?? "—" }),
          el("td", {}, timeEl(c.last_frame_at)),
          el("td", { class: c.last_error ? "error-text" : "muted", text: c.last_error || "—" }),
          el("td", { class: "source small", text: c.source || "" }));
      }));
      empty.hidden = cameras.length > 0;
      table.hidden = cameras.length === 0;
      updated.textContent = `updated ${new Date().toLocaleTimeString()}, every ${CAMERA_REFRESH_MS / 1000} s`;
    } catch (error) {
      if (!alive() || error.status === 401) return;
      updated.textContent = `not updated: ${error.message}`;
    }
    if (alive()) timer = setTimeout(load, CAMERA_REFRESH_MS);
  };
  state.cleanup.push(() => clearTimeout(timer));
  load();
}

// ---------------------------------------------------------------- read a photo

function photoView(alive) {
  const input = el("input", { id: "photo-file", name: "upload", type: "file", accept: "image/*", required: true, testid: "photo-file" });
  const form = el("form", { id: "photo-form", class: "card inline-form", testid: "photo-form" },
    el("label", { class: "grow" }, "Image (JPEG, PNG…)", input),
    el("button", { type: "submit", class: "primary", testid: "photo-submit", text: "Read plates" }));
  const status = el("p", { id: "photo-status", class: "status muted", testid: "photo-status", "aria-live": "polite" });
  const canvas = el("canvas", { id: "photo-canvas", class: "frame", testid: "photo-canvas", hidden: true });
  const plates = el("div", { id: "photo-plates", class: "photo-plates", testid: "photo-plates" });
  $("#view").append(el("section", { class: "photo-view" },
    el("div", { class: "heading" }, el("h1", { text: "Read a photo" }), el("span", { class: "muted", text: "the image is read by this server and not stored" })),
    form, status,
    el("div", { class: "photo-grid" }, el("figure", { class: "card frame-card" }, canvas), plates)));

  let run = 0;
  const read = async () => {
    const file = input.files[0];
    if (!file) return;
    const mine = ++run;
    const current = () => alive() && mine === run;
    plates.replaceChildren();
    delete canvas.dataset.drawn;
    let image = null;
    try {
      image = await decodeBlob(file);
      if (!current()) return;
      drawBoxes(canvas, image, []);
      delete canvas.dataset.drawn;
      canvas.hidden = false;
    } catch {
      canvas.hidden = true; // the browser cannot show it; the server may still read it
    }
    status.textContent = `Reading ${file.name}…`;
    const body = new FormData();
    body.append("upload", file, file.name);
    let result;
    try {
      result = await api("/v1/recognize", { method: "POST", body });
    } catch (error) {
      if (!current() || error.status === 401) return;
      status.textContent = "";
      notify(`Read a photo: ${error.message}`, "error");
      return;
    }
    if (!current()) return;
    const found = (result && result.plates) || [];
    if (image) drawBoxes(canvas, image, found.map((p) => ({ box: p.box, label: `${p.plate} ${percent(p.confidence)}` })));
    const took = result && typeof result.processing_time_ms === "number" ? ` in ${Math.round(result.processing_time_ms)} ms` : "";
    if (result && result.error) {
      status.textContent = "";
      notify(`Read a photo: ${result.error}`, "error");
    } else {
      clearNotice();
      status.textContent = `${found.length} plate${found.length === 1 ? "" : "s"} read from ${file.name}${took}.`;
    }
    plates.replaceChildren(...(found.length ? found.map((p, i) => el("div", { class: "card photo-plate", testid: "photo-plate", dataset: { index: i } },
      el("div", { class: "heading" }, el("span", { class: "plate big", text: p.plate }), el("span", { class: "conf-badge", text: percent(p.confidence) })),
      el("p", { class: "muted small", text: `box ${Array.isArray(p.box) ? p.box.join(", ") : "—"}` }),
      Array.isArray(p.characters) && p.characters.length
        ? el("p", { class: "chars" }, p.characters.map((c) => el("span", { class: "char", title: percent(c.confidence), text: c.char })))
        : null,
      el("h3", { text: "Candidates" }),
      candidatesTable(p.candidates, "photo-candidates")))
      : [el("p", { class: "card empty", testid: "photo-none", text: "No plate was found in this image." })]));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    read();
  });
  input.addEventListener("change", read);
}

// ---------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("#token-input").value.trim();
    if (token) signIn(token);
  });
  $("#signout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  window.addEventListener("storage", (event) => {
    // Another tab signed in with a different token: follow it.
    if (event.key === TOKEN_KEY && event.newValue && event.newValue !== state.token) signIn(event.newValue);
  });
  const token = localStorage.getItem(TOKEN_KEY) || "";
  if (token) signIn(token);
  else askForToken();
});
