// The inbox's small layer of behaviour on top of plain HTML: keyboard, live updates, the
// reply box. Everything here is an enhancement: without it, links and forms still work.
(function () {
  "use strict";

  // New messages show within 3 s of Meta's webhook: the list asks every 2.5 s, which leaves
  // half a second for intake and for the request itself.
  const LIST_POLL_MS = 2500;
  const THREAD_POLL_MS = 2000;
  const HIDDEN_POLL_MS = 15000;
  // A poll loop's next poll is due `interval` after the last one was sent, not after it was
  // answered, so a slow answer does not push the next poll back; a server slower than
  // POLL_SLACK_MS gets the rest as room rather than polls back to back.
  const POLL_SLACK_MS = 1000;
  const nextPoll = (sentAt, interval) => interval - Math.min(performance.now() - sentAt, POLL_SLACK_MS);
  const NEAR_BOTTOM_PX = 120;

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const inbox = $("#inbox");
  const thread = $("#thread");
  const scroller = $("#thread-scroll");
  const messages = $("#messages");
  const listBox = $("#conv-list");
  const textarea = $("#reply-text");
  const composer = $("#composer");
  const encoder = new TextEncoder();

  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const process = (node) => window.htmx && window.htmx.process(node);
  const visible = () => document.visibilityState === "visible";

  // ---- small things ------------------------------------------------------------------
  // Profile pictures are signed CDN links that expire: fall back to the initials under them.
  // Customers' media expire too: the thread swaps a link that stopped loading for a note.
  // `error` does not bubble, so one listener in the capture phase sees every image, video
  // and audio, including those the live poll merges in later.
  document.addEventListener("error", (event) => {
    const el = event.target;
    if (el.tagName === "IMG" && el.parentElement && el.parentElement.classList.contains("avatar")) el.remove();
    // An ad's photo: its "No longer available on Instagram" sits under it, shown once it goes.
    else if (el.tagName === "IMG" && el.closest(".ad-photo")) el.remove();
    else if (/^(IMG|VIDEO|AUDIO)$/.test(el.tagName) && el.closest("[data-media]")) mediaFailed(el);
  }, true);

  const EXPIRED = "No longer available on Instagram";
  function mediaFailed(el) {
    const box = el.closest("[data-media]");
    if (!box || !box.isConnected) return;
    // A story is a photo or a video, and its link does not say which: try it as a video
    // before calling it gone.
    if (box.dataset.media === "story" && el.tagName === "IMG") {
      const video = document.createElement("video");
      Object.assign(video, { controls: true, preload: "metadata", playsInline: true, muted: true });
      video.src = el.getAttribute("src");
      el.replaceWith(video);
      return;
    }
    const note = document.createElement("span");
    note.className = "media-expired";
    note.setAttribute("role", "note");
    note.textContent = EXPIRED;
    const message = box.closest(".msg");
    if (message) message.classList.add("has-expired");
    box.replaceWith(note);
  }

  // What failed before this script ran (it is deferred) fired no event it could hear.
  function sweepFailedMedia(root) {
    $$(".ad-photo img", root).forEach((img) => { if (img.complete && !img.naturalWidth) img.remove(); });
    $$("[data-media] img", root).forEach((img) => {
      if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) mediaFailed(img);
    });
    $$("[data-media] video, [data-media] audio, video[data-media], audio[data-media]", root).forEach((media) => {
      if (media.error || media.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) mediaFailed(media);
    });
  }
  sweepFailedMedia(document);

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });

  document.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]");
    if (action && action.dataset.action === "shortcuts") $("#shortcuts").showModal();
    if (action && action.dataset.action === "panel") inbox.classList.toggle("panel-open");
    const enlarge = event.target.closest("a[data-enlarge]");
    if (enlarge && !event.metaKey && !event.ctrlKey) {
      event.preventDefault();
      showImage(enlarge.href);
    }
  });

  function showImage(src) {
    let viewer = $("#viewer");
    if (!viewer) {
      viewer = document.createElement("dialog");
      viewer.id = "viewer";
      viewer.className = "viewer";
      viewer.innerHTML = '<img alt="Enlarged photo"><a target="_blank" rel="noopener noreferrer">Open original ↗</a>';
      viewer.addEventListener("click", (e) => { if (e.target === viewer || e.target.tagName === "IMG") viewer.close(); });
      document.body.append(viewer);
    }
    $("img", viewer).src = src;
    $("a", viewer).href = src;
    viewer.showModal();
  }

  // ---- keyboard ------------------------------------------------------------------------
  let selectedId = null;
  const rows = () => $$(".row", listBox || document);

  function select(index) {
    const all = rows();
    if (!all.length) return;
    const row = all[Math.max(0, Math.min(index, all.length - 1))];
    all.forEach((r) => r.classList.toggle("is-selected", r === row));
    selectedId = row.dataset.id;
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    let index = all.findIndex((r) => r.dataset.id === selectedId);
    if (index < 0) index = all.findIndex((r) => r.classList.contains("is-current"));
    select(index < 0 ? 0 : index + step);
  }

  document.addEventListener("keydown", (event) => {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    const open = document.querySelector("dialog[open]");
    if (open) return;
    if (event.key === "Escape") {
      if (typing(document.activeElement)) {
        const search = $("#search");
        if (document.activeElement === search && search.value) { search.value = ""; search.dispatchEvent(new Event("search")); }
        document.activeElement.blur();
      } else if (inbox && inbox.classList.contains("panel-open")) {
        inbox.classList.remove("panel-open");
      } else if (thread) {
        window.location.href = $(".back", thread).href;
      }
      return;
    }
    if (typing(document.activeElement)) return;
    if (event.key === "/") { event.preventDefault(); const s = $("#search"); s && s.focus(); s && s.select(); }
    else if (event.key === "?") { $("#shortcuts") && $("#shortcuts").showModal(); }
    else if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); }
    else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); }
    else if (event.key === "Enter" && selectedId) {
      const row = rows().find((r) => r.dataset.id === selectedId);
      if (row) window.location.href = row.href;
    } else if (event.key === "r" && textarea && !textarea.disabled) { event.preventDefault(); textarea.focus(); }
    else if (thread && /^[eas]$/.test(event.key)) {
      // Close (and go on), assign to me, snooze: the buttons carry their key.
      const button = $(`[data-shortcut="${event.key}"]`, thread);
      if (button) { event.preventDefault(); button.click(); }
    }
  });

  // ---- live list -----------------------------------------------------------------------
  // Row ages tick in the browser (the server leaves them out of the list's version).
  const weekday = new Intl.DateTimeFormat(undefined, { weekday: "short" });
  const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
  const dayMonthYear = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  function ageLabel(date) {
    const seconds = (Date.now() - date.getTime()) / 1000;
    if (seconds < 60) return "now";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h";
    if (seconds < 7 * 86400) return weekday.format(date);
    return (date.getFullYear() === new Date().getFullYear() ? dayMonth : dayMonthYear).format(date);
  }
  function refreshAges() {
    $$("time.row-age[datetime]").forEach((el) => {
      const date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) el.textContent = ageLabel(date);
    });
  }
  setInterval(refreshAges, 30000);

  // Reply windows' time left ("57 min left") ticks here too, as presenters.window_label
  // words it: the server's version covers the window's state, not its minutes, and expires
  // when the state changes, so the poll brings the new state then.
  function durationLabel(seconds) {
    if (seconds >= 86400) return Math.floor(seconds / 86400) + " d";
    if (seconds >= 3600) return Math.floor(seconds / 3600) + " h";
    return Math.max(Math.floor(seconds / 60), 1) + " min";
  }
  function windowLabel(kind, closesAt) {
    const left = Math.max(0, (closesAt.getTime() - Date.now()) / 1000);
    if (kind === "open") return durationLabel(Math.min(left, 23 * 3600 + 59 * 60)) + " left";
    if (kind === "human_agent") return "human agent: " + durationLabel(left) + " left";
    return durationLabel(left) + " left"; // "tag": the reply box's note says the rest
  }
  function refreshWindows(root = document) {
    $$("[data-win][data-closes-at]", root).forEach((el) => {
      const date = new Date(el.dataset.closesAt);
      if (el.dataset.closesAt && !isNaN(date)) el.textContent = windowLabel(el.dataset.win, date);
    });
  }
  setInterval(refreshWindows, 30000);

  if (listBox) {
    let listTimer = null;
    const listUrl = () => {
      const params = new URLSearchParams(window.location.search);
      params.delete("before");
      params.set("fragment", "rows");
      if (thread) params.set("current", thread.dataset.conversation);
      if (listBox.dataset.v) params.set("v", listBox.dataset.v);
      if (listBox.dataset.v && listBox.dataset.r) params.set("r", listBox.dataset.r); // what it holds
      return listBox.dataset.rowsUrl.split("?")[0] + "?" + params.toString();
    };
    const applyUnread = (count) => {
      const badge = $("#unread-count");
      const n = Number(count || 0);
      if (badge) { badge.hidden = !n; badge.textContent = (n > 99 ? "99+" : n) + " unread"; }
      document.title = (n ? `(${n > 99 ? "99+" : n}) ` : "") + document.title.replace(/^\(\d+\+?\) /, "");
    };
    // The Mentions link's count of unread mentions (a teammate's note, or read elsewhere).
    const applyMentions = (count) => {
      const link = $(".mentions-link");
      if (!link || count === null) return;
      const n = Number(count) || 0;
      let badge = $("#mentions-count", link);
      link.classList.toggle("has-unread", n > 0);
      if (!n) {
        if (badge) { badge.remove(); link.textContent = link.textContent.trimEnd(); }
        return;
      }
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "mentions-count";
        badge.id = "mentions-count";
        link.append(" ", badge);
      }
      badge.textContent = n > 99 ? "99+" : String(n);
    };
    // Same rows in the same order: swap only the rows that changed (their pictures are not
    // reloaded, nothing blinks). Anything else: the new list as a whole. A row the page has
    // already comes as a placeholder (data-keep): the page's own row stays in its place.
    // False when the page lacks a row the server believed it had (then ask for them all).
    const rowId = (li) => (li.hasAttribute("data-keep") ? li.dataset.id : ($(".row", li) || { dataset: {} }).dataset.id) || "";
    function mergeRows(html) {
      const fresh = document.createElement("template");
      fresh.innerHTML = html;
      $$("time.row-age[datetime]", fresh.content).forEach((el) => { el.textContent = ageLabel(new Date(el.getAttribute("datetime"))); });
      refreshWindows(fresh.content);
      const ids = (list) => Array.from(list.children).map(rowId).join();
      const pager = (root) => ($(".pager", root) || {}).outerHTML || "";
      const oldList = $(".rows", listBox);
      const newList = $(".rows", fresh.content);
      const kept = newList ? $$(":scope > li[data-keep]", newList) : [];
      const oldItems = new Map(oldList ? Array.from(oldList.children).map((li) => [rowId(li), li]) : []);
      if (kept.some((li) => !oldItems.has(li.dataset.id))) return false;
      listBox.dataset.r = (newList && newList.dataset.r) || "";
      if (!oldList || !newList || ids(oldList) !== ids(newList) || pager(listBox) !== pager(fresh.content)) {
        kept.forEach((li) => li.replaceWith(oldItems.get(li.dataset.id)));
        $$(".row.is-selected", fresh.content).forEach((r) => r.classList.remove("is-selected"));
        listBox.replaceChildren(fresh.content);
        return true;
      }
      Array.from(newList.children).forEach((item, index) => {
        const old = oldList.children[index];
        const oldRow = $(".row", old);
        if (oldRow) oldRow.classList.remove("is-selected");
        if (!item.hasAttribute("data-keep") && old.outerHTML !== item.outerHTML) old.replaceWith(item);
      });
      return true;
    }
    listBox.dataset.r = ($(".rows", listBox) || { dataset: {} }).dataset.r || "";

    async function pollList() {
      clearTimeout(listTimer);
      const sentAt = performance.now();
      let again = false;
      try {
        const response = await fetch(listUrl(), { headers: { "X-Inbox-Poll": "1" }, credentials: "same-origin" });
        if (response.redirected) { window.location.reload(); return; } // signed out
        const version = response.headers.get("X-Inbox-Version");
        if (response.status === 200 && version) {
          const top = listBox.scrollTop;
          if (mergeRows(await response.text())) {
            alertNewRows();
            listBox.dataset.v = version;
            listBox.scrollTop = top;
            if (selectedId) rows().forEach((r) => r.classList.toggle("is-selected", r.dataset.id === selectedId));
            applyUnread(response.headers.get("X-Inbox-Unread"));
            applyMentions(response.headers.get("X-Inbox-Mentions"));
          } else {
            listBox.dataset.v = "";
            listBox.dataset.r = "";
            again = true;
          }
        }
      } catch (e) { /* offline for a moment: the next poll catches up */ }
      listTimer = setTimeout(pollList, again ? 0 : nextPoll(sentAt, visible() ? LIST_POLL_MS : HIDDEN_POLL_MS));
    }
    listTimer = setTimeout(pollList, LIST_POLL_MS);
    document.addEventListener("visibilitychange", () => visible() && pollList());
    document.body.addEventListener("inbox:changed", () => pollList());
    // Search-as-you-type swaps the rows through htmx: take the new version along.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target === listBox) {
        listBox.dataset.v = event.detail.xhr.getResponseHeader("X-Inbox-Version") || "";
        listBox.dataset.r = ($(".rows", listBox) || { dataset: {} }).dataset.r || "";
        selectedId = null;
      }
    });
  }

  // ---- alerts --------------------------------------------------------------------------------
  // Optional sound and desktop notifications for a customer's new message in a conversation
  // that is mine or unassigned (its row carries data-alert: when that message came). Off
  // until the agent switches them on; the browser asks for permission only then.
  const ALERT_KEYS = { sound: "inbox:alerts:sound", desktop: "inbox:alerts:desktop" };
  const alertOn = (kind) => localStorage.getItem(ALERT_KEYS[kind]) === "1";
  const alerted = new Set();
  const alertKey = (row) => row.dataset.id + "@" + row.dataset.alert;
  $$(".row[data-alert]").forEach((row) => alerted.add(alertKey(row))); // already there: no alert

  function beep() {
    const Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return;
    const audio = new Audio();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.3);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.3);
    tone.onended = () => audio.close();
  }

  function notify(row) {
    const name = ($(".row-name", row) || row).textContent.trim();
    const preview = ($(".row-preview", row) || {}).textContent || "";
    const note = new Notification(name, { body: preview.trim(), tag: "inbox-" + row.dataset.id });
    note.onclick = () => { window.focus(); window.location.href = row.href; note.close(); };
  }

  function alertNewRows() {
    const fresh = $$(".row[data-alert]").filter((row) => !alerted.has(alertKey(row)));
    fresh.forEach((row) => alerted.add(alertKey(row)));
    // The conversation on screen needs no alert while the agent is looking at it.
    const due = fresh.filter((row) => !(thread && row.dataset.id === thread.dataset.conversation && visible()));
    if (!due.length) return;
    if (alertOn("sound")) beep();
    if (alertOn("desktop") && "Notification" in window && Notification.permission === "granted") due.slice(0, 3).forEach(notify);
  }

  const alertSettings = $("#alert-settings");
  if (alertSettings) {
    alertSettings.hidden = false;
    const status = $("#alert-status", alertSettings);
    $$("input[data-alert-kind]", alertSettings).forEach((box) => {
      const kind = box.dataset.alertKind;
      box.checked = alertOn(kind) && (kind !== "desktop" || ("Notification" in window && Notification.permission === "granted"));
      box.addEventListener("change", async () => {
        if (kind === "desktop" && box.checked) {
          if (!("Notification" in window)) { box.checked = false; status.textContent = "This browser has no desktop notifications."; return; }
          const answer = await Notification.requestPermission(); // at once when granted before
          if (answer !== "granted") { box.checked = false; status.textContent = "The browser blocked notifications: allow them in its site settings."; return; }
          new Notification("Desktop alerts are on", { body: "New customer messages in your and unassigned conversations.", tag: "inbox-alerts-on" });
        }
        status.textContent = "";
        if (box.checked) localStorage.setItem(ALERT_KEYS[kind], "1");
        else localStorage.removeItem(ALERT_KEYS[kind]);
        if (kind === "sound" && box.checked) beep();
      });
    });
  }

  // ---- live thread -----------------------------------------------------------------------
  const nearBottom = () => scroller && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  const toBottom = () => { if (scroller) scroller.scrollTop = scroller.scrollHeight; };
  const jump = $("#jump");

  function mergeParts(update) {
    $$("[data-part]", update).forEach((incoming) => {
      const current = $(`[data-part="${incoming.dataset.part}"]`, document);
      if (!current || current.dataset.v === incoming.dataset.v) return;
      // Keep the keyboard where it was: the same control in the new markup, if it has an id.
      const focused = current.contains(document.activeElement) ? document.activeElement.id : "";
      current.replaceWith(incoming);
      process(incoming);
      localizeTimes(incoming);
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      if (incoming.dataset.part === "composer-state") applyCanSend(incoming.dataset.canSend === "1");
    });
  }

  // Messages: replace the ones whose version changed, insert the new ones in order, touch
  // nothing else, so a playing video, the scroll position and the draft stay as they are.
  // An item the page keeps comes as a placeholder (data-keep) that only marks its place.
  function mergeMessages(incomingList) {
    let added = 0;
    let previous = null;
    const items = Array.from(incomingList.children).filter((el) => el.id);
    const firstKnown = items.map((el) => document.getElementById(el.id)).find(Boolean);
    for (const incoming of items) {
      const existing = document.getElementById(incoming.id);
      if (incoming.hasAttribute("data-keep")) { previous = existing; continue; }
      if (existing) {
        if (existing.dataset.v !== incoming.dataset.v) { existing.replaceWith(incoming); process(incoming); previous = incoming; }
        else previous = existing;
        continue;
      }
      if (previous) previous.after(incoming);
      else if (firstKnown) firstKnown.before(incoming);
      else messages.append(incoming);
      process(incoming);
      previous = incoming;
      if (incoming.classList.contains("msg") || incoming.classList.contains("note")) added += 1;
    }
    const empty = $("#thread-empty");
    if (empty && items.length) empty.remove();
    return added;
  }

  if (thread && !new URLSearchParams(window.location.search).has("before")) {
    let threadTimer = null;
    let inFlight = false;
    toBottom();
    // Images load after the first paint: keep the newest message in view while they do.
    $$("img", messages).forEach((img) => img.addEventListener("load", () => { if (nearBottom()) toBottom(); }, { once: true }));

    const threadUrl = () => {
      const params = new URLSearchParams(window.location.search);
      params.set("v", thread.dataset.v || "");
      params.set("visible", visible() && document.hasFocus() ? "1" : "0");
      if (thread.dataset.r) params.set("r", thread.dataset.r); // what the page holds
      if (typingNow()) params.set("typing", "1");
      return thread.dataset.updatesUrl + "?" + params.toString();
    };
    // The server sent placeholders for items it believed on the page: if one is missing,
    // merge nothing and ask for the whole thread at once.
    const lacksKept = (list) => $$("[data-keep]", list).some((el) => !document.getElementById(el.id));
    async function pollThread() {
      clearTimeout(threadTimer);
      if (inFlight) return;
      inFlight = true;
      const sentAt = performance.now();
      let again = false;
      try {
        const response = await fetch(threadUrl(), { headers: { "X-Inbox-Poll": "1" }, credentials: "same-origin" });
        showPresence(response.headers.get("X-Inbox-Presence"));
        if (response.status === 200) {
          const template = document.createElement("template");
          template.innerHTML = await response.text();
          const update = $(".thread-update", template.content);
          if (!update) { window.location.reload(); return; } // signed out: show the login form
          const list = $("[data-part-messages]", update);
          if (lacksKept(list)) {
            thread.dataset.v = "";
            thread.dataset.r = "";
            again = true;
          } else {
            const stick = nearBottom();
            mergeParts(update);
            const added = mergeMessages(list);
            thread.dataset.v = update.dataset.v;
            thread.dataset.r = update.dataset.r || "";
            if (stick) toBottom();
            else if (added && jump) jump.hidden = false;
          }
        } else if (response.status === 404) {
          window.location.href = $(".back", thread).href; // access was taken away
          return;
        }
      } catch (e) { /* offline for a moment: the next poll catches up */ }
      finally { inFlight = false; }
      threadTimer = setTimeout(pollThread, again ? 0 : nextPoll(sentAt, visible() ? THREAD_POLL_MS : HIDDEN_POLL_MS));
    }
    threadTimer = setTimeout(pollThread, THREAD_POLL_MS);
    document.addEventListener("visibilitychange", () => visible() && pollThread());
    document.body.addEventListener("inbox:changed", () => pollThread());
    // A second step shown in the action area (confirm sending again) is done once it worked.
    document.body.addEventListener("htmx:afterRequest", (event) => {
      const area = event.detail.successful && event.detail.elt.closest && event.detail.elt.closest("#action-error");
      if (area) area.innerHTML = "";
    });
    if (jump) {
      jump.addEventListener("click", () => { toBottom(); jump.hidden = true; });
      scroller.addEventListener("scroll", () => { if (nearBottom()) jump.hidden = true; }, { passive: true });
    }
  }

  // ---- presence -----------------------------------------------------------------------------
  // The thread poll says when this agent is typing; its answer (even a 204) names who else
  // has the conversation open and who of them is typing.
  const TYPING_MS = 4000;
  let lastTyped = 0;
  function typingNow() { return Date.now() - lastTyped < TYPING_MS && textarea && textarea.value.trim() !== ""; }

  function showPresence(header) {
    const box = $("#presence");
    if (!box || header === null) return;
    let viewers = [];
    try { viewers = JSON.parse(header); } catch (e) { return; }
    const names = (list) => list.map((v) => v.name);
    const join = (list) => list.length < 2 ? list.join("") : list.slice(0, -1).join(", ") + " and " + list[list.length - 1];
    const typers = names(viewers.filter((v) => v.typing));
    const lookers = names(viewers.filter((v) => !v.typing));
    const parts = [];
    if (typers.length) parts.push(`${join(typers)} ${typers.length > 1 ? "are" : "is"} typing a reply…`);
    if (lookers.length) parts.push(`${join(lookers)} ${lookers.length > 1 ? "are" : "is"} also viewing`);
    box.textContent = parts.join(" · ");
    box.hidden = !parts.length;
    box.classList.toggle("is-typing", typers.length > 0);
  }

  // ---- time zone ---------------------------------------------------------------------------
  // Times the server wrote in its own zone (a snooze's end) are shown in the agent's.
  const localTime = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  function localizeTimes(root) {
    $$("time[data-local]", root).forEach((el) => {
      const date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) el.textContent = localTime.format(date);
    });
  }
  localizeTimes(document);
  // Snooze presets ("tomorrow 9:00") and custom times are the agent's own time zone: the
  // server reads it from this cookie, and each snooze form carries it too.
  const zone = (Intl.DateTimeFormat().resolvedOptions() || {}).timeZone;
  if (zone) document.cookie = `tz=${encodeURIComponent(zone)}; path=/; max-age=31536000; SameSite=Lax`;
  document.addEventListener("submit", (event) => {
    if (zone) $$("input[data-tz]", event.target).forEach((input) => { input.value = zone; });
  }, true);

  // ---- reply box ---------------------------------------------------------------------------
  function applyCanSend(canSend) {
    if (!composer) return;
    composer.classList.toggle("is-blocked", !canSend);
    // Notes and the Reply / Note switch (data-any-state) work whether replies can go out or not.
    $$("textarea, input, select, button", composer).forEach((el) => {
      if (el.type !== "hidden" && !el.hasAttribute("data-any-state")) el.disabled = !canSend;
    });
    if (textarea) textarea.placeholder = canSend ? "Write a reply…" : "No reply can be sent now";
    updateCounter();
  }

  const counter = $("#byte-counter");
  const sendButton = composer && $(".send", composer);
  const limit = counter ? Number(counter.dataset.limit) : 1000;
  const draftKey = thread ? "inbox:draft:" + thread.dataset.conversation : null;

  const noteMode = () => Boolean($("#mode-note:checked"));
  function bytes() { return textarea ? encoder.encode(textarea.value).length : 0; }
  function tooLong() { return bytes() > limit; }

  function updateCounter() {
    if (!counter || !textarea) return;
    const n = bytes();
    counter.textContent = n > limit ? `${n} / ${limit} bytes: too long for Instagram` : `${n} / ${limit} bytes`;
    counter.classList.toggle("is-over", n > limit);
    counter.classList.toggle("is-near", n <= limit && n > limit * 0.9);
    if (sendButton) sendButton.disabled = textarea.disabled || n > limit;
  }

  function autosize() {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 2, window.innerHeight * 0.4) + "px";
  }

  if (textarea && composer) {
    if (draftKey && !textarea.value) textarea.value = localStorage.getItem(draftKey) || "";
    updateCounter();
    autosize();
    textarea.addEventListener("input", () => {
      lastTyped = Date.now();
      updateCounter();
      autosize();
      const error = $("#composer-error");
      if (error) error.innerHTML = "";
      if (draftKey) {
        if (textarea.value) localStorage.setItem(draftKey, textarea.value);
        else localStorage.removeItem(draftKey);
      }
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      if (tooLong()) { counter.classList.remove("shake"); void counter.offsetWidth; counter.classList.add("shake"); return; }
      if (!textarea.value.trim() && !composer.querySelector("input[type=file]").files.length && !composer.querySelector("input[type=url]").value) return;
      // Asked whether to send into a colleague's conversation: Enter means "Send anyway"
      // (clicked, so that htmx sends the button's value).
      const confirmSend = $("#confirm-send", composer);
      if (confirmSend) confirmSend.click();
      else composer.requestSubmit(sendButton);
    });
    // A refusal from the browser side too, should the button be enabled by hand.
    composer.addEventListener("htmx:confirm", (event) => {
      const submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
      const sticker = submitter && submitter.name === "sticker";
      if (!sticker && !noteMode() && tooLong()) event.preventDefault();
    });
    composer.addEventListener("htmx:configRequest", (event) => {
      // The heart goes out on its own: the draft stays in the box.
      const submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
      if (noteMode()) composer.dataset.lastSubmit = "note"; // team.js clears the note box
      else if (submitter && submitter.name === "sticker") {
        event.detail.parameters.delete ? event.detail.parameters.delete("text") : delete event.detail.parameters.text;
        composer.dataset.lastSubmit = "sticker";
      } else composer.dataset.lastSubmit = "text";
    });
    composer.addEventListener("htmx:afterRequest", (event) => {
      // Sent: a 204. A refusal (422, "successful" to htmx, which swaps it in) keeps the draft.
      if (event.detail.elt !== composer || !event.detail.successful || event.detail.xhr.status !== 204) return;
      if (composer.dataset.lastSubmit === "text") {
        textarea.value = "";
        if (draftKey) localStorage.removeItem(draftKey);
        $$("input[type=file], input[type=url]", composer).forEach((el) => { el.value = ""; });
        const attach = $("details.attach", composer);
        if (attach) attach.open = false;
        updateCounter();
        autosize();
      }
      if (!noteMode()) textarea.focus();
      toBottom();
    });
  }
})();
