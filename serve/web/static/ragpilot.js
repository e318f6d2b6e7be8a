// ragpilot's web page: three views over the same-origin API. No framework, no third-party code.
// The API key (only needed when the server runs with --api-key) is kept in sessionStorage and sent
// as "Authorization: Bearer <key>" on every data request; the shell and this file need no key.
"use strict";

const KEY_ITEM = "ragpilot-api-key";
const $ = (id) => document.getElementById(id);

function apiKey() { return sessionStorage.getItem(KEY_ITEM) || ""; }

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = apiKey();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function notice(text) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

// The OpenAI-shaped error of a failed response, as one sentence.
async function errorMessage(response) {
  let message = response.status + " " + response.statusText;
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch (e) { /* not JSON */ }
  if (response.status === 401) message += " — type the server's API key above.";
  return message;
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const response = await fetch(path, opts);
  if (!response.ok) throw new Error(await errorMessage(response));
  return response;
}

// ----- views -----------------------------------------------------------------------------------
const VIEWS = ["search", "ask", "health", "file"];
let lastView = "search";

function show(view) {
  for (const v of VIEWS) {
    $("view-" + v).hidden = v !== view;
    const tab = $("tab-" + v);
    if (tab) tab.setAttribute("aria-selected", String(v === view));
  }
  if (view !== "file") lastView = view;
  if (view === "health") loadHealth();
  else { clearTimeout(healthTimer); healthTimer = null; }
}

function route() {
  const view = (location.hash || "#search").slice(1);
  if (/^L\d+$/.test(view)) return;  // a line anchor inside the open file
  show(VIEWS.includes(view) && view !== "file" ? view : "search");
}

// ----- search ----------------------------------------------------------------------------------
async function search(event) {
  event.preventDefault();
  const out = $("search-results");
  const body = {query: $("search-query").value, mode: $("search-mode").value,
                k: parseInt($("search-k").value, 10) || 10};
  out.innerHTML = '<p class="muted">Searching…</p>';
  try {
    const response = await api("/ui/search", {method: "POST", body: JSON.stringify(body),
                                              headers: {"Content-Type": "application/json"}});
    out.innerHTML = await response.text();  // server-rendered, every value escaped by Jinja2
    notice("");
  } catch (err) {
    showError(out, err);
  }
}

// An error replaces a view's content, as text (never markup).
function showError(box, err) {
  box.textContent = "";
  const p = document.createElement("p");
  p.className = "bad";
  p.textContent = err.message;
  box.appendChild(p);
}

// ----- a file, opened at a line ----------------------------------------------------------------
async function openFile(href) {
  const url = new URL(href, location.href);
  const line = url.hash.slice(1);
  url.hash = "";
  const body = $("file-body");
  body.textContent = "Loading…";
  show("file");
  try {
    const response = await api(url.pathname + url.search);
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    body.replaceChildren(document.adoptNode(doc.getElementById("file-view")));
    const target = line && body.querySelector("#" + CSS.escape(line));
    if (target) {
      target.classList.add("target");
      target.scrollIntoView({block: "center"});
    } else {
      window.scrollTo(0, 0);
    }
  } catch (err) {
    showError(body, err);
  }
}

// ----- ask -------------------------------------------------------------------------------------
let asking = null;

const SOURCE_LINE = /^- \[(\d+)\] (.+):(\d+)-(\d+)\s*$/;

function renderSources(text) {
  const [answer, sources] = splitSources(text);
  $("ask-answer").textContent = answer;
  const list = $("ask-sources");
  list.replaceChildren();
  for (const line of sources.split("\n")) {
    const m = SOURCE_LINE.exec(line);
    if (!m) continue;
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.className = "file-link";
    const params = new URLSearchParams({path: m[2], lines: m[3] + "-" + m[4]});
    a.href = "/ui/file?" + params.toString() + "#L" + m[3];
    a.textContent = m[2] + ":" + m[3] + "-" + m[4];
    li.appendChild(a);
    list.appendChild(li);
  }
  $("ask-sources-box").hidden = list.children.length === 0;
}

function splitSources(text) {
  const at = text.lastIndexOf("\n\nSources:\n");
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 11)];
}

async function ask(event) {
  event.preventDefault();
  if (asking) asking.abort();
  asking = new AbortController();
  const status = $("ask-status");
  const answer = $("ask-answer");
  answer.textContent = "";
  $("ask-sources").replaceChildren();
  $("ask-sources-box").hidden = true;
  status.textContent = "Retrieving and thinking…";
  status.className = "muted";
  $("ask-stop").hidden = false;
  const body = {model: "ragpilot", stream: true,
                max_tokens: parseInt($("ask-max-tokens").value, 10) || 512,
                messages: [{role: "user", content: $("ask-question").value}]};
  let text = "";
  try {
    const response = await api("/v1/chat/completions", {
      method: "POST", body: JSON.stringify(body), signal: asking.signal,
      headers: {"Content-Type": "application/json", "Accept": "text/event-stream"}});
    status.textContent = "Answering…";
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let done = false;
    while (!done) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += chunk.value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {  // one SSE event per blank-line-separated block
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]") { done = true; break; }
          const payload = JSON.parse(data);
          if (payload.error) throw new Error(payload.error.message);
          const delta = payload.choices && payload.choices[0] && payload.choices[0].delta;
          if (delta && delta.content) {
            text += delta.content;
            answer.textContent = splitSources(text)[0];
          }
        }
      }
    }
    renderSources(text);
    status.textContent = "Done.";
    answer.dataset.done = "true";
  } catch (err) {
    if (err.name === "AbortError") {
      status.textContent = "Stopped.";
    } else {
      status.textContent = err.message;
      status.className = "bad";
    }
    if (text) renderSources(text);
  } finally {
    $("ask-stop").hidden = true;
    asking = null;
  }
}

// ----- health ----------------------------------------------------------------------------------
// While a repository is in a start-up pass ([data-working] in the fragment), the view reloads every
// POLL_MS to move its progress bar and ETA; it stops once every repository is through, or when the
// view is left.
const POLL_MS = 1000;
let healthTimer = null;
let healthLoads = 0;

async function loadHealth() {
  clearTimeout(healthTimer);
  healthTimer = null;
  const load = ++healthLoads;  // a later load wins over a slower earlier one
  const out = $("health-body");
  try {
    const response = await api("/ui/health");
    const html = await response.text();
    if (load !== healthLoads) return;
    out.innerHTML = html;  // server-rendered, every value escaped by Jinja2
    if (out.querySelector("[data-working]") && !$("view-health").hidden) {
      healthTimer = setTimeout(loadHealth, POLL_MS);
    }
  } catch (err) {
    if (load !== healthLoads) return;
    showError(out, err);
  }
}

// The paths skipped for one reason, fetched when its <details> is first opened.
async function loadSkipped(details) {
  details.dataset.loaded = "true";
  const box = details.querySelector(".paths");
  const params = new URLSearchParams({repo: details.dataset.repo, reason: details.dataset.reason});
  try {
    const response = await api("/ui/skipped?" + params.toString());
    box.innerHTML = await response.text();  // server-rendered, every path escaped by Jinja2
  } catch (err) {
    delete details.dataset.loaded;
    box.textContent = err.message;
    box.className = "paths bad";
  }
}

// ----- wiring ----------------------------------------------------------------------------------
function setKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key) sessionStorage.setItem(KEY_ITEM, key); else sessionStorage.removeItem(KEY_ITEM);
  $("api-key").value = "";
  $("key-state").textContent = key ? "key set for this tab" : "no key";
  notice("");
  if (!$("view-health").hidden) loadHealth();
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-state").textContent = apiKey() ? "key set for this tab" : "";
  $("key-form").addEventListener("submit", setKey);
  $("search-form").addEventListener("submit", search);
  $("ask-form").addEventListener("submit", ask);
  $("ask-stop").addEventListener("click", () => asking && asking.abort());
  $("health-refresh").addEventListener("click", loadHealth);
  $("file-back").addEventListener("click", () => { location.hash = "#" + lastView; show(lastView); });
  document.body.addEventListener("click", (event) => {
    const link = event.target.closest("a.file-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    openFile(link.getAttribute("href"));
  });
  document.addEventListener("toggle", (event) => {  // toggle does not bubble: listen while capturing
    const details = event.target;
    if (details.matches && details.matches("details.skipped") && details.open && !details.dataset.loaded) {
      loadSkipped(details);
    }
  }, true);
  window.addEventListener("hashchange", route);
  route();
});
