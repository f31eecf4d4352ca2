// The blog's page: a session in cookies set by the server. The tokens'
// cookies are HttpOnly; this script reads only the CSRF cookies, and sends
// their value in X-CSRF-Token on every request that changes something.
"use strict";

const $ = (id) => document.getElementById(id);
let user = null;
let socket = null;

function cookie(name) {
  const pair = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return pair ? decodeURIComponent(pair.slice(name.length + 1)) : null;
}

// One request; the CSRF header comes from the access or refresh CSRF cookie.
function call(method, path, body, kind = "access") {
  const headers = { "X-CSRF-Token": cookie(`__Host-csrf_${kind}_token`) || "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
}

// Exchanges the refresh cookie for new cookies; false when the session is
// over. Refresh tokens are single-use: one tab refreshes at a time, and a
// tab skips its refresh when another one has refreshed since `seen` (the
// CSRF access cookie it saw before its request failed).
async function refresh(seen) {
  const run = async () => {
    if (cookie("__Host-csrf_access_token") !== seen) return true;
    return (await call("POST", "/session/refresh", undefined, "refresh")).ok;
  };
  return navigator.locks ? navigator.locks.request("jwt-guard-refresh", run) : run();
}

// Whether a 401 says the access token is gone or expired, which a refresh
// mends (not a revoked token, nor a refused origin or CSRF value).
async function expired(reply) {
  if (reply.status !== 401) return false;
  try {
    const body = await reply.clone().json();
    return body.error === "unauthorized" || body.message === "token has expired";
  } catch (_) {
    return false;
  }
}

// A request with the access cookie; after its token expired, one refresh
// and one retry.
async function authed(method, path, body) {
  const seen = cookie("__Host-csrf_access_token");
  let reply = await call(method, path, body);
  if ((await expired(reply)) && (await refresh(seen))) reply = await call(method, path, body);
  return reply;
}

async function say(reply) {
  let text = `${reply.status}`;
  try {
    text = (await reply.json()).message || text;
  } catch (_) {}
  $("message").textContent = text;
}

function item(post) {
  const li = document.createElement("li");
  li.dataset.id = post.id;
  const title = document.createElement("strong");
  title.textContent = post.title;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `by ${post.author}, ${post.created_at}`;
  const body = document.createElement("div");
  body.textContent = post.body;
  li.append(title, meta, body);
  return li;
}

async function loadPosts() {
  const reply = await fetch(`/posts?author=${encodeURIComponent(user)}`);
  const posts = reply.ok ? await reply.json() : [];
  $("posts").replaceChildren(...posts.map(item));
}

function listen() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const seen = cookie("__Host-csrf_access_token");
  const opened = new WebSocket(`${scheme}//${location.host}/live`);
  socket = opened;
  opened.onopen = () => ($("live-status").textContent = "(connected)");
  opened.onmessage = (event) => $("live").prepend(item(JSON.parse(event.data)));
  opened.onclose = async (event) => {
    if (socket !== opened) return;
    $("live-status").textContent = "(offline)";
    // The server closes the socket when the token that opened it expires.
    if (!user || event.code !== 1008) return;
    if (await refresh(seen)) listen();
    else show(null);
  };
}

function show(username) {
  user = username;
  $("signed-out").hidden = username !== null;
  $("signed-in").hidden = username === null;
  if (username === null) {
    const open = socket;
    socket = null;
    if (open) open.close();
    $("posts").replaceChildren();
    $("live").replaceChildren();
    return;
  }
  $("who").textContent = username;
  loadPosts();
  listen();
}

async function logIn() {
  const credentials = { username: $("username").value, password: $("password").value };
  const reply = await call("POST", "/session", credentials);
  if (!reply.ok) return say(reply);
  $("message").textContent = "";
  $("password").value = "";
  show((await reply.json()).username);
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  logIn();
});

$("signup").addEventListener("click", async () => {
  const credentials = { username: $("username").value, password: $("password").value };
  const reply = await call("POST", "/signup", credentials);
  if (!reply.ok) return say(reply);
  logIn();
});

$("post-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const post = { title: $("title").value, body: $("body").value };
  const reply = await authed("POST", `/users/${encodeURIComponent(user)}/posts`, post);
  if (reply.status === 401) return show(null);
  if (!reply.ok) return say(reply);
  $("message").textContent = "";
  $("title").value = "";
  $("body").value = "";
  loadPosts();
});

$("logout").addEventListener("click", async () => {
  const reply = await authed("DELETE", "/session");
  // A 401 after a failed refresh: the session had ended already.
  if (!reply.ok && !(await expired(reply))) return say(reply);
  $("message").textContent = "Logged out.";
  show(null);
});

// On load: still signed in (the cookies survive a reload), or not.
(async () => {
  const reply = await authed("GET", "/session");
  show(reply.ok ? (await reply.json()).username : null);
})();
