// DaprGame chat page: plain JS, no build step. Tokens live in memory only; the socket speaks the gateway's
// {type, cid, data} envelope (services/gateway/README.md) and resumes after a drop with its resume token.
"use strict";

const state = {
  accessToken: null, refreshToken: null, playerId: null,
  socket: null, resumeToken: null, cid: 0, pending: new Map(),
  positions: new Map(),   // channelId -> {epoch, offset}: the last event shown
  current: null, closedByUser: false, retry: 0, refreshTimer: null,
};

const $ = (id) => document.getElementById(id);

function notice(text, isError) {
  const li = document.createElement("li");
  li.textContent = text;
  if (isError) li.className = "error";
  $("notices").appendChild(li);
  setTimeout(() => li.remove(), 6000);
}

function setStatus(text) { $("status").textContent = text; }

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state.accessToken) headers.Authorization = "Bearer " + state.accessToken;
  const response = await fetch(path, { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && (data.code || data.title)) || response.statusText);
  return data;
}

function signedIn(tokens) {
  state.accessToken = tokens.accessToken;
  state.refreshToken = tokens.refreshToken;
  state.playerId = tokens.playerId || state.playerId;
  clearTimeout(state.refreshTimer);
  // Refresh a minute before expiry (or every 10 minutes when the answer does not say).
  const seconds = tokens.expiresIn || 600;
  state.refreshTimer = setTimeout(refreshTokens, Math.max(10, seconds - 60) * 1000);
}

async function refreshTokens() {
  try {
    signedIn(await api("/v1/auth/refresh", { refreshToken: state.refreshToken }));
  } catch (e) {
    notice("Session ended: " + e.message, true);
    signOut();
  }
}

async function login(path, body) {
  try {
    signedIn(await api(path, body));
    $("login").classList.add("hidden");
    $("chat").classList.remove("hidden");
    setStatus("signed in as " + state.playerId);
    state.closedByUser = false;
    connect(false);
    loadRooms();
  } catch (e) {
    notice("Sign-in failed: " + e.message, true);
  }
}

function signOut() {
  state.closedByUser = true;
  if (state.socket) state.socket.close(1000, "sign out");
  if (state.refreshToken) api("/v1/auth/logout", { refreshToken: state.refreshToken }).catch(() => {});
  Object.assign(state, { accessToken: null, refreshToken: null, resumeToken: null, current: null });
  state.positions.clear();
  $("chat").classList.add("hidden");
  $("login").classList.remove("hidden");
  setStatus("signed out");
}

function request(type, data) {
  return new Promise((resolve, reject) => {
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return reject(new Error("not connected"));
    const cid = "c" + (++state.cid);
    state.pending.set(cid, { resolve, reject });
    state.socket.send(JSON.stringify({ type, cid, data }));
  });
}

function connect(resume) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // resume=1 asks the gateway to hold live events until our resume request says where we stand.
  resume = resume && !!state.resumeToken && state.positions.size > 0;
  const socket = new WebSocket(`${scheme}//${location.host}/ws?access_token=${encodeURIComponent(state.accessToken)}${resume ? "&resume=1" : ""}`);
  state.socket = socket;
  setStatus("connecting…");
  // One envelope per message, or several, one per line, when the gateway sends a backlog at once.
  socket.onmessage = (e) => { for (const line of e.data.split("\n")) if (line) onFrame(JSON.parse(line), resume); };
  socket.onclose = (e) => {
    for (const p of state.pending.values()) p.reject(new Error("socket closed"));
    state.pending.clear();
    if (state.closedByUser) return;
    if (e.code === 4001) { notice("Session revoked.", true); signOut(); return; }
    // Back off 1, 2, 4 … 30 s, then come back and ask for what was missed.
    const delay = Math.min(30000, 1000 * 2 ** state.retry++);
    setStatus(`disconnected (${e.code}); retrying in ${delay / 1000} s`);
    setTimeout(() => connect(true), delay);
  };
}

async function onWelcome(data, resume) {
  state.retry = 0;
  const previous = state.resumeToken;
  state.resumeToken = data.resumeToken;
  setStatus("connected");
  renderMine(data.channels);
  if (resume) {
    try {
      await request("resume", { resumeToken: previous, positions: Object.fromEntries(state.positions) });
      notice("Reconnected; caught up.");
    } catch (e) {
      notice("Could not resume (" + e.message + "); reloading history.", true);
      if (state.current) openChannel(state.current);
    }
  }
}

function onFrame(frame, resume) {
  if (frame.cid && state.pending.has(frame.cid)) {
    const p = state.pending.get(frame.cid);
    state.pending.delete(frame.cid);
    if (frame.type === "error") {
      const err = new Error(frame.data.code + (frame.data.retryAfterMs ? ` (retry in ${frame.data.retryAfterMs} ms)` : ""));
      notice("Error: " + frame.data.code + " — " + frame.data.message, true);
      p.reject(err);
    } else {
      p.resolve(frame.data);
    }
    return;
  }
  switch (frame.type) {
    case "session.welcome": onWelcome(frame.data, resume); break;
    case "history.truncated":
      notice(`History of ${frame.data.channelId} was cut; reloading.`, true);
      state.positions.delete(frame.data.channelId);
      if (state.current === frame.data.channelId) openChannel(frame.data.channelId);
      break;
    case "error": notice("Error: " + frame.data.code + " — " + frame.data.message, true); break;
    default:
      if (frame.type.startsWith("chat.")) onEvent(frame.data);
  }
}

function onEvent(e) {
  const seen = state.positions.get(e.channelId);
  if (seen && seen.epoch === e.epoch && e.offset <= seen.offset) return; // already shown (from a history page)
  state.positions.set(e.channelId, { epoch: e.epoch, offset: e.offset });
  if (e.type === "chat.member.joined.v1" && e.playerId === state.playerId) loadMine();
  if (e.channelId === state.current) show(e);
}

function show(e) {
  const li = document.createElement("li");
  li.value = e.offset;
  const meta = document.createElement("span");
  meta.className = "meta";
  switch (e.type) {
    case "chat.message.posted.v1": meta.textContent = e.senderId + ":"; li.append(meta, e.text); break;
    case "chat.message.edited.v1": li.className = "system"; li.textContent = `${e.editorId} edited #${e.targetOffset}: ${e.text}`; break;
    case "chat.message.deleted.v1": li.className = "system"; li.textContent = `message #${e.targetOffset} deleted (${e.reason})`; break;
    case "chat.member.joined.v1": li.className = "system"; li.textContent = `${e.playerId} joined`; break;
    case "chat.member.left.v1": li.className = "system"; li.textContent = `${e.playerId} left (${e.reason})`; break;
    default: li.className = "system"; li.textContent = e.type;
  }
  $("messages").appendChild(li);
  li.scrollIntoView({ block: "end" });
}

function renderList(list, channels, onPick) {
  list.replaceChildren(...channels.map((c) => {
    const li = document.createElement("li");
    li.textContent = `${c.name} (${c.memberCount})`;
    li.dataset.id = c.channelId;
    if (c.channelId === state.current) li.className = "active";
    li.onclick = () => onPick(c.channelId);
    return li;
  }));
}

function renderMine(channels) { renderList($("mine"), channels, openChannel); }

async function loadMine() { try { renderMine(await request("channels.mine", {})); } catch { /* shown by notice */ } }

async function loadRooms() {
  try { renderList($("rooms"), await request("channels.list", {}), joinRoom); } catch { /* socket may still be opening */ }
}

async function joinRoom(channelId) {
  try {
    await request("channel.join", { channelId });
    await loadMine();
    await openChannel(channelId);
  } catch { /* notice already shown */ }
}

async function openChannel(channelId) {
  state.current = channelId;
  $("channel-title").textContent = channelId;
  $("messages").replaceChildren();
  $("text").disabled = $("send").disabled = false;
  try {
    const page = await request("channel.history", { channelId, after: 0, limit: 200 });
    if (page.truncated) notice(`Older history of ${channelId} is gone.`);
    for (const e of page.events) show(e);
    const last = page.events.length ? page.events[page.events.length - 1].offset : page.latestOffset;
    const seen = state.positions.get(channelId);
    if (!seen || seen.offset < last) state.positions.set(channelId, { epoch: page.epoch, offset: last });
  } catch { /* notice already shown */ }
}

$("guest-form").onsubmit = (e) => { e.preventDefault(); login("/v1/auth/guest", { deviceId: $("device").value, displayName: $("device").value.slice(0, 32) }); };
$("account-form").onsubmit = (e) => {
  e.preventDefault();
  const action = e.submitter && e.submitter.dataset.action === "register" ? "register" : "login";
  login("/v1/auth/" + action, { username: $("username").value, password: $("password").value });
};
$("create-form").onsubmit = async (e) => {
  e.preventDefault();
  try {
    const info = await request("channel.create", { kind: "room", name: $("room-name").value });
    $("room-name").value = "";
    await loadRooms();
    await loadMine();
    await openChannel(info.channelId);
  } catch { /* notice already shown */ }
};
$("send-form").onsubmit = async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text || !state.current) return;
  const clientMessageId = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 64);
  try {
    await request("message.send", { channelId: state.current, clientMessageId, text });
    $("text").value = "";
  } catch { /* notice already shown */ }
};
$("refresh-rooms").onclick = loadRooms;
$("logout").onclick = signOut;
$("device").value = "browser-" + Math.random().toString(36).slice(2, 10);
