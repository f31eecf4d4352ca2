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

// Exchanges the refresh cookie for new cookies; false when the session is over.
async function refresh() {
  return (await call("POST", "/session/refresh", undefined, "refresh")).ok;
}

// A request with the access cookie; after a 401 (an expired access token),
// one refresh and one retry.
async function authed(method, path, body) {
  let reply = await call(method, path, body);
  if (reply.status === 401 && (await refresh())) reply = await call(method, path, body);
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
  socket = new WebSocket(`${scheme}//${location.host}/live`);
  socket.onopen = () => ($("live-status").textContent = "(connected)");
  socket.onmessage = (event) => $("live").prepend(item(JSON.parse(event.data)));
  socket.onclose = async (event) => {
    $("live-status").textContent = "(offline)";
    // The server closes the socket when the token that opened it expires.
    if (user && event.code === 1008 && (await refresh())) listen();
  };
}

function show(username) {
  user = username;
  $("signed-out").hidden = username !== null;
  $("signed-in").hidden = username === null;
  if (username === null) {
    if (socket) socket.close();
    socket = null;
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
  if (!reply.ok && reply.status !== 401) return say(reply);
  $("message").textContent = "Logged out.";
  show(null);
});

// On load: still signed in (the cookies survive a reload), or not.
(async () => {
  const reply = await authed("GET", "/session");
  show(reply.ok ? (await reply.json()).username : null);
})();
