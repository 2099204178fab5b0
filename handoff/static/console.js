/* Agent console. Plain JS; every piece of user text goes in with textContent. */
(function () {
  "use strict";
  const TOKEN_KEY = "kefu.agent.token";
  const $ = (id) => document.getElementById(id);
  const REASONS = {
    explicit_request: "主动要求人工", anger: "情绪激动", threat: "威胁投诉/曝光", complaint: "投诉",
    lost_parcel: "包裹丢失", damaged_item: "商品破损/错发", dispute: "售后纠纷", loop: "对话绕圈",
    repeated_misunderstanding: "多次未理解", safety: "安全问题", double_charge: "重复扣款",
    verification_failed: "身份验证失败", bot_unavailable: "机器人故障",
  };
  const LEVELS = { urgent: "紧急", high: "高", normal: "普通", low: "低" };
  const SKILLS = { logistics: "物流", returns: "退换货", usage: "商品使用", orders: "订单", complaints: "投诉", general: "综合" };
  const SENDERS = { shopper: "顾客", bot: "机器人小美", agent: "客服", system: "系统" };
  const EMOTIONS = { anger: "愤怒", angry: "愤怒", threat: "威胁", sad: "沮丧", anxious: "焦急", neutral: "平静", happy: "满意" };

  let token = sessionStorage.getItem(TOKEN_KEY);
  let me = null, ws = null, retry = 0;
  let queue = [], mine = [], selected = null, selectedTicket = null, clockOffset = 0, tab = "mine";
  const lastIds = {};   // conversation id -> last message id rendered/seen
  const unread = {};

  // ------------------------------------------------------------ helpers
  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  function now() { return Date.now() / 1000 + clockOffset; }
  function syncClock(serverTime) { if (serverTime) clockOffset = serverTime - Date.now() / 1000; }
  function dur(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + "秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + "分" + String(seconds % 60).padStart(2, "0") + "秒";
    return Math.floor(seconds / 3600) + "小时" + Math.floor((seconds % 3600) / 60) + "分";
  }
  function hhmm(epoch) {
    const d = new Date(epoch * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  let toastTimer = null;
  function toast(text) {
    const t = $("toast");
    t.textContent = text; t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }
  async function api(method, path, body) {
    const opts = { method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.status === 401 && path !== "/api/agent/login") { logoutLocal(); throw new Error("unauthorized"); }
    if (!resp.ok) {
      const err = new Error((data && data.message) || ("HTTP " + resp.status));
      err.code = data && data.error;
      throw err;
    }
    return data;
  }
  function explain(err) {
    const map = {
      offer_gone: "该工单已被他人接入或邀请已过期", at_capacity: "您的接待量已满，请先结束部分会话",
      not_your_conversation: "该会话已不在您名下", text_too_long: "消息过长（最多 1000 字）", empty_text: "请输入内容",
    };
    return map[err.code] || ("操作失败：" + err.message);
  }

  // ------------------------------------------------------------ login
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").hidden = true;
    try {
      const resp = await fetch("/api/agent/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: $("login-user").value.trim(), password: $("login-pass").value }),
      });
      const data = await resp.json();
      if (!resp.ok) throw new Error(data.error === "bad_credentials" ? "账号或密码错误" : (data.message || "登录失败"));
      token = data.token;
      sessionStorage.setItem(TOKEN_KEY, token);
      await start();
    } catch (e) {
      $("login-error").textContent = e.message;
      $("login-error").hidden = false;
    }
  });
  function logoutLocal() {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
    $("app-view").hidden = true;
    $("login-view").hidden = false;
  }
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/agent/logout"); } catch (e) { /* leaving anyway */ }
    logoutLocal();
  });
  $("status-select").addEventListener("change", async (event) => {
    try { await api("POST", "/api/agent/status", { status: event.target.value }); toast(event.target.value === "online" ? "已切换为在线接待" : "已切换为小休，不会收到新的分配"); }
    catch (e) { toast(explain(e)); }
  });

  async function start() {
    const data = await api("GET", "/api/agent/me");
    me = data.agent;
    $("me-name").textContent = me.display_name + "（" + me.skills.map((s) => SKILLS[s] || s).join("、") + "）";
    $("status-select").value = me.status === "away" ? "away" : "online";
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    connect();
    await Promise.all([refreshMine(), refreshQueue(), refreshStats()]);
  }

  // ------------------------------------------------------------ live connection
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + location.host + "/ws/agent?token=" + encodeURIComponent(token));
    ws.onopen = () => {
      retry = 0;
      $("live-conn").hidden = true;
      mine.forEach((t) => watch(t.conversation_id));
      if (selected) watch(selected);
    };
    ws.onmessage = (event) => {
      let data; try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "queue") { syncClock(data.server_time); queue = data.queue; renderLists(); }
      else if (data.type === "message") onMessage(data.message);
      else if (data.type === "agent_event") onAgentEvent(data.event);
      else if (data.type === "conversation_changed") { refreshMine(); if (data.conversation_id === selected) refreshSelected(); }
    };
    ws.onclose = () => {
      if (!token) return;
      $("live-conn").hidden = false;
      setTimeout(connect, Math.min(1000 * Math.pow(2, retry++), 10000));
    };
  }
  function watch(conversationId) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "watch", conversation_id: conversationId, after: lastIds[conversationId] || 0 }));
    }
  }
  function onMessage(m) {
    if ((lastIds[m.conversation_id] || 0) >= m.id) return;
    lastIds[m.conversation_id] = m.id;
    if (m.conversation_id === selected) { appendLine(m); }
    else if (m.sender === "shopper") { unread[m.conversation_id] = (unread[m.conversation_id] || 0) + 1; renderLists(); }
  }
  function onAgentEvent(e) {
    if (e.type === "offer") { toast("新会话邀请：" + (REASONS[e.ticket.reason] || e.ticket.reason) + "，请在 " + Math.round(e.expires_in) + " 秒内接入"); refreshMine(); }
    else if (e.type === "offer_expired") { toast("会话邀请已超时，已转给其他同事"); refreshMine(); }
    else if (e.type === "assigned") {
      if (e.transferred_from) toast(e.transferred_from + " 将一个会话转给了您");
      refreshMine().then(() => select(e.conversation_id));
    } else if (e.type === "lost") { toast("您太久未回复，会话已重新排队"); refreshMine(); if (selected === e.conversation_id) refreshSelected(); }
    refreshStats();
  }

  // ------------------------------------------------------------ lists
  async function refreshMine() {
    const data = await api("GET", "/api/agent/tickets");
    syncClock(data.server_time);
    mine = data.tickets;
    mine.forEach((t) => { if (t.status === "assigned") watch(t.conversation_id); });
    renderLists();
  }
  async function refreshQueue() {
    const data = await api("GET", "/api/queue");
    syncClock(data.server_time);
    queue = data.queue;
    renderLists();
  }
  async function refreshStats() {
    try {
      const s = await api("GET", "/api/stats");
      $("stat-waiting").textContent = s.tickets.queued || 0;
      $("stat-active").textContent = s.tickets.assigned || 0;
      $("stat-breaches").textContent = s.breaches_total;
      $("stat-rating").textContent = s.rating.average === null ? "-" : s.rating.average.toFixed(1) + "★";
    } catch (e) { /* shown on next refresh */ }
  }

  function ticketItem(t, isMine) {
    const li = el("li", "ticket");
    li.dataset.conv = t.conversation_id;
    const offered = isMine && t.status === "queued";
    if (offered) li.classList.add("offer");
    if (t.conversation_id === selected) li.classList.add("selected");
    const top = el("div", "ticket-top");
    top.appendChild(el("span", "level " + t.level, LEVELS[t.level] || t.level));
    top.appendChild(el("span", "reason", REASONS[t.reason] || t.reason));
    top.appendChild(el("span", "skill", SKILLS[t.skill] || t.skill));
    if (unread[t.conversation_id]) top.appendChild(el("span", "count", String(unread[t.conversation_id])));
    li.appendChild(top);
    const preview = (t.summary && t.summary.last_text) || "";
    li.appendChild(el("div", "ticket-preview", preview ? "“" + preview + "”" : "（无预览）"));
    const times = el("div", "ticket-times");
    const wait = el("span", "wait"); wait.dataset.since = t.enqueued_at;
    const sla = el("span", "sla");
    sla.dataset.target = t.target_at; sla.dataset.responded = t.first_response_at ? "1" : "";
    times.appendChild(wait); times.appendChild(sla);
    li.appendChild(times);
    if (offered) {
      const row = el("div", "offer-actions");
      const yes = el("button", "primary small", "接入"); yes.type = "button";
      const no = el("button", "ghost small", "婉拒"); no.type = "button";
      yes.addEventListener("click", async (ev) => {
        ev.stopPropagation();
        try { await api("POST", "/api/tickets/" + t.ticket_id + "/accept"); await refreshMine(); select(t.conversation_id); }
        catch (e) { toast(explain(e)); refreshMine(); }
      });
      no.addEventListener("click", async (ev) => {
        ev.stopPropagation();
        try { await api("POST", "/api/tickets/" + t.ticket_id + "/decline"); } catch (e) { toast(explain(e)); }
        refreshMine();
      });
      row.appendChild(yes); row.appendChild(no);
      li.appendChild(row);
    }
    li.addEventListener("click", () => select(t.conversation_id));
    return li;
  }
  function renderLists() {
    const mineList = $("list-mine"), queueList = $("list-queue");
    mineList.replaceChildren(...mine.map((t) => ticketItem(t, true)));
    queueList.replaceChildren(...queue.map((t) => ticketItem(t, false)));
    if (!mine.length) mineList.appendChild(el("li", "note", "暂无接待中的会话"));
    if (!queue.length) queueList.appendChild(el("li", "note", "当前没有排队的顾客 🎉"));
    $("count-mine").textContent = mine.filter((t) => t.status === "assigned").length;
    $("count-queue").textContent = queue.length;
    tickTimes();
  }
  function tickTimes() {
    const t = now();
    document.querySelectorAll(".ticket .wait").forEach((n) => { n.textContent = "等待 " + dur(t - Number(n.dataset.since)); });
    document.querySelectorAll(".ticket .sla").forEach((n) => {
      if (n.dataset.responded) { n.textContent = "已首响"; n.className = "sla"; return; }
      const left = Number(n.dataset.target) - t;
      n.textContent = left >= 0 ? "剩余 " + dur(left) : "已超时 " + dur(-left);
      n.className = "sla" + (left < 0 ? " breach" : left < 15 ? " warn" : "");
    });
  }
  setInterval(tickTimes, 1000);
  setInterval(() => { if (token && me) refreshStats(); }, 15000);

  document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
    tab = b.dataset.tab;
    document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
    $("list-mine").hidden = tab !== "mine";
    $("list-queue").hidden = tab !== "queue";
  }));
  $("pull-next").addEventListener("click", async () => {
    try {
      const data = await api("POST", "/api/agent/claim");
      if (!data.ticket) { toast("暂时没有您可以接入的排队顾客"); return; }
      await refreshMine();
      select(data.ticket.conversation_id);
    } catch (e) { toast(explain(e)); }
  });

  // ------------------------------------------------------------ conversation
  async function select(conversationId) {
    selected = conversationId;
    unread[conversationId] = 0;
    $("transfer-box").hidden = true;
    await refreshSelected();
    renderLists();
  }
  async function refreshSelected() {
    if (!selected) return;
    const data = await api("GET", "/api/conversations/" + encodeURIComponent(selected));
    syncClock(data.server_time);
    $("empty-chat").hidden = true;
    $("chat").hidden = false;
    const transcript = $("transcript");
    transcript.replaceChildren();
    data.messages.forEach((m) => appendLine(m, true));
    if (data.messages.length) lastIds[selected] = Math.max(lastIds[selected] || 0, data.messages[data.messages.length - 1].id);
    watch(selected);
    selectedTicket = data.tickets[0] || null;
    const mineNow = selectedTicket && selectedTicket.status === "assigned" && selectedTicket.agent_id === me.id;
    $("chat-title").textContent = "顾客 " + selected.slice(0, 8);
    $("chat-meta").textContent = selectedTicket
      ? (LEVELS[selectedTicket.level] || "") + "优先级 · " + (REASONS[selectedTicket.reason] || selectedTicket.reason) + " · " + (SKILLS[selectedTicket.skill] || "") + " · 状态：" + ({ queued: "排队中", assigned: "接待中", resolved: "已解决", handed_back: "已交回机器人" }[selectedTicket.status] || selectedTicket.status)
      : "";
    ["btn-resolve", "btn-transfer", "btn-handback", "reply-send", "reply-input"].forEach((id) => { $(id).disabled = !mineNow; });
    $("readonly-note").hidden = !!mineNow;
    renderContext(selectedTicket);
    transcript.scrollTop = transcript.scrollHeight;
  }
  function appendLine(m, bulk) {
    const li = el("li", "line " + m.sender);
    const who = m.sender === "agent" ? "客服 " + (m.agent_name || "") : SENDERS[m.sender] || m.sender;
    if (m.sender !== "system") li.appendChild(el("span", "who", who + " · " + hhmm(m.created_at)));
    let text = m.text;
    const extra = m.extra || {};
    if (extra.rating_request) text += "（已发送评价邀请）";
    li.appendChild(el("div", "text", text));
    $("transcript").appendChild(li);
    if (!bulk) $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function fact(dl, label, value, cls) {
    dl.appendChild(el("dt", null, label));
    const dd = el("dd", cls);
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
    dl.appendChild(dd);
  }
  function tags(values) {
    const span = el("span");
    values.forEach((v) => span.appendChild(el("span", "tag", v)));
    if (!values.length) span.textContent = "—";
    return span;
  }
  function renderContext(t) {
    const dl = $("context-body");
    dl.replaceChildren();
    $("context-empty").hidden = !!t;
    dl.hidden = !t;
    if (!t) return;
    fact(dl, "转人工原因", REASONS[t.reason] || t.reason);
    fact(dl, "优先级", t.priority + "（" + (LEVELS[t.level] || t.level) + "）");
    fact(dl, "技能组", SKILLS[t.skill] || t.skill);
    fact(dl, "客户", t.customer ? (t.customer.id ? "ID " + t.customer.id : "未识别") : "未识别");
    fact(dl, "会员等级", t.customer && t.customer.vip_tier, "vip");
    fact(dl, "订单", t.order ? (t.order.id || "—") + (t.order.amount !== null && t.order.amount !== undefined ? "  ¥" + t.order.amount : "") : "—");
    if (t.emotion) {
      const box = el("div");
      const label = EMOTIONS[t.emotion.label] || t.emotion.label || "—";
      box.appendChild(el("span", null, label + (t.emotion.score !== null && t.emotion.score !== undefined ? "（" + Math.round(t.emotion.score * 100) + "%）" : "")));
      if (t.emotion.score !== null && t.emotion.score !== undefined) {
        const bar = el("div", "emotion-bar"); const fill = el("span"); fill.style.width = Math.round(t.emotion.score * 100) + "%";
        bar.appendChild(fill); box.appendChild(bar);
      }
      if (t.emotion.cues && t.emotion.cues.length) box.appendChild(tags(t.emotion.cues));
      fact(dl, "情绪", box);
    } else {
      fact(dl, "情绪", "未检测");
    }
    const s = t.summary || {};
    fact(dl, "识别意图", tags(s.intents || []));
    fact(dl, "提取信息", tags((s.entities || []).map((e) => e.entity + "：" + e.value)));
    fact(dl, "对话槽位", tags(Object.entries(s.slots || {}).map(([k, v]) => k + "：" + (typeof v === "object" ? JSON.stringify(v) : v))));
    if (s.note) fact(dl, "备注", s.note);
    fact(dl, "最后一句", s.last_text);
    fact(dl, "进入队列", hhmm(t.enqueued_at) + "（等待 " + dur((t.assigned_at || now()) - t.enqueued_at) + "）");
    if (t.transfers) fact(dl, "转接次数", t.transfers);
    if (t.rating) fact(dl, "顾客评分", "★".repeat(t.rating));
  }

  async function sendReply() {
    const text = $("reply-input").value.trim();
    if (!text || !selected) return;
    try {
      await api("POST", "/api/conversations/" + encodeURIComponent(selected) + "/messages", { text });
      $("reply-input").value = "";
    } catch (e) { toast(explain(e)); }
  }
  $("reply-form").addEventListener("submit", (ev) => { ev.preventDefault(); sendReply(); });
  $("reply-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendReply(); }
  });
  async function closeAs(kind, doneText) {
    try {
      await api("POST", "/api/conversations/" + encodeURIComponent(selected) + "/" + kind);
      toast(doneText);
      await refreshMine();
      await refreshSelected();
      refreshStats();
    } catch (e) { toast(explain(e)); }
  }
  $("btn-resolve").addEventListener("click", () => closeAs("resolve", "已解决，已邀请顾客评价"));
  $("btn-handback").addEventListener("click", () => closeAs("handback", "已交回机器人小美"));
  $("btn-transfer").addEventListener("click", async () => {
    const box = $("transfer-box");
    box.hidden = !box.hidden;
    if (box.hidden) return;
    const data = await api("GET", "/api/agents");
    const select = $("transfer-agent");
    select.replaceChildren(el("option", null, "请选择"));
    select.firstChild.value = "";
    data.agents.filter((a) => a.id !== me.id).forEach((a) => {
      const opt = el("option", null, a.display_name + (a.online ? "（在线 " + a.active + "/" + a.capacity + "）" : "（离线）"));
      opt.value = a.id;
      select.appendChild(opt);
    });
  });
  $("transfer-go").addEventListener("click", async () => {
    const agentId = $("transfer-agent").value, skill = $("transfer-skill").value;
    if (!agentId && !skill) { toast("请选择要转给的客服或技能组"); return; }
    const body = agentId ? { to_agent_id: Number(agentId) } : { to_skill: skill };
    try {
      await api("POST", "/api/conversations/" + encodeURIComponent(selected) + "/transfer", body);
      toast("已转接");
      $("transfer-box").hidden = true;
      await refreshMine();
      await refreshSelected();
    } catch (e) { toast(explain(e)); }
  });

  // ------------------------------------------------------------ quick replies
  let qrTimer = null;
  $("qr-toggle").addEventListener("click", () => {
    const panel = $("quick-replies");
    panel.hidden = !panel.hidden;
    if (!panel.hidden) {
      if (selectedTicket && !$("qr-topic").value) $("qr-topic").value = selectedTicket.skill === "general" ? "" : selectedTicket.skill;
      loadReplies();
      $("qr-query").focus();
    }
  });
  $("qr-query").addEventListener("input", () => { clearTimeout(qrTimer); qrTimer = setTimeout(loadReplies, 200); });
  $("qr-topic").addEventListener("change", loadReplies);
  async function loadReplies() {
    const params = new URLSearchParams({ q: $("qr-query").value.trim(), topic: $("qr-topic").value });
    const data = await api("GET", "/api/quick-replies?" + params.toString());
    const list = $("qr-list");
    list.replaceChildren();
    data.quick_replies.forEach((r) => {
      const li = el("li", "qr-item");
      const head = el("div", "qr-item-head");
      head.appendChild(el("b", null, r.title + " · " + (SKILLS[r.topic] || "通用")));
      const edit = el("button", "qr-edit", "编辑"); edit.type = "button";
      edit.addEventListener("click", (ev) => {
        ev.stopPropagation();
        $("qr-id").value = r.id; $("qr-form-topic").value = r.topic; $("qr-form-title").value = r.title; $("qr-form-text").value = r.text;
        document.querySelector(".qr-new").open = true;
      });
      head.appendChild(edit);
      li.appendChild(head);
      li.appendChild(el("p", null, r.text));
      li.addEventListener("click", () => insertReply(r.text));
      list.appendChild(li);
    });
    if (!data.quick_replies.length) list.appendChild(el("li", "note", "没有匹配的快捷回复"));
  }
  function insertReply(text) {
    const input = $("reply-input");
    if (input.disabled) { toast("该会话不在您名下，不能回复"); return; }
    const start = input.selectionStart ?? input.value.length, end = input.selectionEnd ?? input.value.length;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.focus();
    input.selectionStart = input.selectionEnd = start + text.length;
  }
  $("qr-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { topic: $("qr-form-topic").value, title: $("qr-form-title").value.trim(), text: $("qr-form-text").value.trim() };
    const id = $("qr-id").value;
    try {
      if (id) await api("PUT", "/api/quick-replies/" + id, body); else await api("POST", "/api/quick-replies", body);
      $("qr-id").value = ""; $("qr-form-title").value = ""; $("qr-form-text").value = "";
      document.querySelector(".qr-new").open = false;
      toast("快捷回复已保存");
      loadReplies();
    } catch (e) { toast(explain(e)); }
  });

  // ------------------------------------------------------------ boot
  if (token) start().catch(() => logoutLocal()); else $("login-view").hidden = false;
})();
