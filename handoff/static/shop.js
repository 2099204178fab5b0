/* Storefront chat widget. Talks to the handoff service over WebSocket.
 * Everything a user wrote is inserted with textContent, never as HTML.
 * The conversation id, token and last message id seen live in localStorage,
 * so a reload or a dropped connection resumes where it left off. */
(function () {
  "use strict";
  const STORE_KEY = "kefu.conversation";
  const $ = (id) => document.getElementById(id);
  const panel = $("chat-panel"), launcher = $("chat-launcher"), log = $("chat-log");
  const input = $("chat-input"), form = $("chat-form"), sendBtn = $("chat-send");
  const banner = $("chat-banner"), conn = $("chat-conn"), sub = $("chat-sub"), unread = $("chat-unread");

  let session = load();
  let ws = null, retry = 0, outbox = [], unreadCount = 0, opened = false;
  const shown = new Set();          // message ids already on screen
  const ratedTickets = new Map();   // ticket id -> score

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)) || null; } catch (e) { return null; }
  }
  function save() { localStorage.setItem(STORE_KEY, JSON.stringify(session)); }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function hhmm(epoch) {
    const d = new Date(epoch * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  async function ensureConversation() {
    if (session && session.conversation_id && session.token) return;
    const resp = await fetch("/api/shopper/conversations", { method: "POST" });
    if (!resp.ok) throw new Error("cannot start conversation");
    const body = await resp.json();
    session = { conversation_id: body.conversation_id, token: body.token, last_id: 0 };
    save();
  }

  function welcome() {
    if (log.querySelector(".welcome")) return;
    const li = renderBubble({ sender: "bot", text: "亲，您好！我是小美优选的智能客服小美 😊\n查订单、查物流、退换货、商品使用问题都可以问我；需要人工客服时说「转人工」就好~", created_at: Date.now() / 1000 });
    li.classList.add("welcome");
    log.appendChild(li);
  }

  function renderBubble(m) {
    const kind = m.sender === "shopper" ? "me" : m.sender;
    const li = el("li", "msg " + kind);
    if (m.sender === "system") {
      li.appendChild(el("div", "bubble", m.text));
      return li;
    }
    if (m.sender !== "shopper") {
      li.appendChild(el("div", "msg-avatar", m.sender === "agent" ? (m.agent_name || "客").slice(0, 1) : "美"));
    }
    const body = el("div", "body");
    if (m.sender === "agent") body.appendChild(el("span", "who", "人工客服 · " + (m.agent_name || "")));
    if (m.text) body.appendChild(el("div", "bubble", m.text));
    const extra = m.extra || {};
    if (Array.isArray(extra.buttons) && extra.buttons.length) {
      const row = el("div", "buttons");
      extra.buttons.forEach((b) => {
        const btn = el("button", null, b.title);
        btn.type = "button";
        btn.addEventListener("click", () => {
          if (b.action === "request_human") send({ type: "request_human" });
          else send({ type: "message", text: b.title, payload: b.payload || undefined });
        });
        row.appendChild(btn);
      });
      body.appendChild(row);
    }
    if (extra.rating_request) body.appendChild(renderRating(extra.rating_request.ticket_id));
    body.appendChild(el("span", "time", hhmm(m.created_at)));
    li.appendChild(body);
    return li;
  }

  function renderRating(ticketId) {
    const wrap = el("div");
    const stars = el("div", "rating");
    stars.dataset.ticket = ticketId;
    const note = el("div", "rating-note", "点击星星评分：1 星很不满意，5 星非常满意");
    for (let i = 1; i <= 5; i++) {
      const star = el("button", null, "★");
      star.type = "button";
      star.title = i + " 星";
      star.setAttribute("aria-label", i + " 星");
      star.addEventListener("mouseenter", () => paint(stars, i));
      star.addEventListener("mouseleave", () => paint(stars, ratedTickets.get(ticketId) || 0));
      star.addEventListener("click", () => {
        send({ type: "rating", ticket_id: ticketId, score: i });
        lockRating(ticketId, i);
      });
      stars.appendChild(star);
    }
    wrap.appendChild(stars);
    wrap.appendChild(note);
    if (ratedTickets.has(ticketId)) setTimeout(() => lockRating(ticketId, ratedTickets.get(ticketId)), 0);
    return wrap;
  }
  function paint(stars, n) {
    stars.querySelectorAll("button").forEach((b, idx) => b.classList.toggle("on", idx < n));
  }
  function lockRating(ticketId, score) {
    ratedTickets.set(ticketId, score);
    document.querySelectorAll('.rating[data-ticket="' + ticketId + '"]').forEach((stars) => {
      paint(stars, score);
      stars.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      const note = stars.nextSibling;
      if (note) note.textContent = "您已评价 " + score + " 星，感谢您的反馈！";
    });
  }

  function addMessage(m) {
    if (shown.has(m.id)) return;
    shown.add(m.id);
    const extra = m.extra || {};
    if (extra.event === "rated") lockRating(extra.ticket_id, extra.score);
    log.appendChild(renderBubble(m));
    if (m.id > (session.last_id || 0)) { session.last_id = m.id; save(); }
    if (!opened && m.sender !== "shopper") { unreadCount++; unread.textContent = unreadCount; unread.hidden = false; }
    scrollDown();
  }

  function minutes(seconds) { return Math.max(1, Math.round(seconds / 60)); }

  function showState(s) {
    banner.classList.remove("agent");
    if (s.state === "queued") {
      let text;
      if (s.estimated_wait_seconds === null || s.estimated_wait_seconds === undefined) {
        text = "人工客服暂时不在线，您可以直接留言，客服上线后会第一时间回复您。";
      } else {
        const ahead = Math.max((s.queue_position || 1) - 1, 0);
        text = ahead > 0
          ? "正在为您转接人工客服，您前面还有 " + ahead + " 位，预计等待约 " + minutes(s.estimated_wait_seconds) + " 分钟。"
          : "正在为您转接人工客服，您排在第 1 位，马上为您接通~";
      }
      banner.textContent = text;
      banner.hidden = false;
      sub.textContent = "排队中 · 等待人工客服";
    } else if (s.state === "assigned") {
      banner.textContent = "人工客服「" + (s.agent_name || "") + "」正在为您服务";
      banner.classList.add("agent");
      banner.hidden = false;
      sub.textContent = "人工客服 " + (s.agent_name || "") + " 为您服务中";
    } else {
      banner.hidden = true;
      sub.textContent = "小美在线，随时为您服务";
    }
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = proto + "//" + location.host + "/ws/shopper?conversation_id=" + encodeURIComponent(session.conversation_id) +
      "&token=" + encodeURIComponent(session.token) + "&after=" + (session.last_id || 0);
    ws = new WebSocket(url);
    ws.addEventListener("open", () => {
      retry = 0;
      conn.hidden = true;
      sendBtn.disabled = false;
      const pending = outbox; outbox = [];
      pending.forEach((frame) => ws.send(JSON.stringify(frame)));
    });
    ws.addEventListener("message", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "message") addMessage(data.message);
      else if (data.type === "state") showState(data);
      else if (data.type === "error") notice(errorText(data));
    });
    ws.addEventListener("close", (event) => {
      if (event.code === 1008 || event.code === 4401) return;
      conn.hidden = false;
      const delay = Math.min(1000 * Math.pow(2, retry++), 10000);
      setTimeout(connect, delay);
    });
  }

  function errorText(data) {
    if (data.error === "text_too_long") return "亲，消息太长啦，请分几次发送（每条最多 1000 字）。";
    if (data.error === "already_rated") return "您已经评价过了，感谢您的反馈~";
    // The service words these for the shopper (flood limit, database briefly down).
    if ((data.error === "rate_limited" || data.error === "service_unavailable") && data.message) return data.message;
    return "抱歉，刚才的操作没有成功，请稍后再试。";
  }
  function notice(text) {
    const li = el("li", "msg system");
    li.appendChild(el("div", "bubble", text));
    log.appendChild(li);
    scrollDown();
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    else outbox.push(frame);  // kept until the connection is back
  }

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    if (text.length > 1000) { notice(errorText({ error: "text_too_long" })); return; }
    send({ type: "message", text: text });
    input.value = "";
    input.style.height = "";
  }

  async function open() {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    opened = true; unreadCount = 0; unread.hidden = true;
    welcome();
    if (!ws) {
      try {
        await ensureConversation();
        connect();
      } catch (e) {
        conn.hidden = false;
        conn.textContent = "暂时无法连接客服，请稍后再试或拨打 400-820-8820";
      }
    }
    input.focus();
    scrollDown();
  }
  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    opened = false;
  }

  launcher.addEventListener("click", open);
  $("chat-close").addEventListener("click", close);
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
  });
  input.addEventListener("input", () => { input.style.height = ""; input.style.height = Math.min(input.scrollHeight, 110) + "px"; });
  $("chat-chips").addEventListener("click", (event) => {
    const btn = event.target.closest("button");
    if (btn && btn.dataset.text) send({ type: "message", text: btn.dataset.text });
  });

  // A returning shopper with an open conversation sees it straight away.
  if (session && session.conversation_id) {
    session.last_id = 0;  // re-render the history on a fresh page
    open();
  }
})();
