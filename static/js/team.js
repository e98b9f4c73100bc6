// Team work in the reply box, on top of plain HTML: the Reply / Internal note switch (keys
// r and n), the note box (Enter adds the note), and saved replies: the menu button's list
// and the "/" menu, filtered as the agent types and driven by the keyboard. Without this
// script the switch still works (CSS) and a saved reply's link puts it in the box.
(function () {
  "use strict";

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const composer = $("#composer");
  const thread = $("#thread");
  const reply = $("#reply-text");
  const note = $("#note-text");
  const noteRadio = $("#mode-note");
  const replyRadio = $("#mode-reply");
  if (!composer || !note || !noteRadio || !replyRadio || !reply) return;

  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const noteKey = thread ? "inbox:note:" + thread.dataset.conversation : null;

  // ---- Reply / Internal note ------------------------------------------------------------
  function setMode(mode) {
    (mode === "note" ? noteRadio : replyRadio).checked = true;
    closeMenu();
    const box = mode === "note" ? note : reply;
    if (!box.disabled) box.focus();
  }
  [noteRadio, replyRadio].forEach((radio) => radio.addEventListener("change", () => setMode(radio.value)));

  document.addEventListener("keydown", (event) => {
    if (event.metaKey || event.ctrlKey || event.altKey || document.querySelector("dialog[open]")) return;
    if (typing(document.activeElement)) return;
    if (event.key === "n") { event.preventDefault(); setMode("note"); }
    else if (event.key === "r") { event.preventDefault(); setMode("reply"); }
  });

  // ---- the note box ---------------------------------------------------------------------
  function autosize() {
    note.style.height = "auto";
    note.style.height = Math.min(note.scrollHeight + 2, window.innerHeight * 0.4) + "px";
  }
  // A note's draft survives a reload, like a reply's; with no reply draft, in note mode.
  if (noteKey && !note.value && localStorage.getItem(noteKey)) {
    note.value = localStorage.getItem(noteKey);
    if (!reply.value) noteRadio.checked = true;
  }
  note.addEventListener("input", () => {
    autosize();
    const error = $("#composer-error");
    if (error) error.innerHTML = "";
    if (noteKey) {
      if (note.value) localStorage.setItem(noteKey, note.value);
      else localStorage.removeItem(noteKey);
    }
  });
  note.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (note.value.trim()) composer.requestSubmit($(".send-note", composer));
  });
  composer.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== composer || !event.detail.successful || composer.dataset.lastSubmit !== "note") return;
    note.value = "";
    if (noteKey) localStorage.removeItem(noteKey);
    autosize();
    note.focus();
  });

  // ---- saved replies ----------------------------------------------------------------------
  const saved = $$("[data-saved-reply]").map((link) => ({
    shortcut: link.dataset.shortcut,
    title: $(".saved-title", link).textContent,
    text: link.dataset.text,
  }));
  let menu = null;
  let matches = [];
  let active = 0;
  let token = null; // {start, end} of the "/query" being typed

  function insert(text, range) {
    const start = range ? range.start : reply.selectionStart;
    const end = range ? range.end : reply.selectionEnd;
    reply.setRangeText(text, start, end, "end");
    replyRadio.checked = true;
    closeMenu();
    const details = $("#saved-replies");
    if (details) details.open = false;
    reply.focus();
    reply.dispatchEvent(new Event("input", { bubbles: true })); // the counter, the draft
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-saved-reply]");
    if (!link || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    insert(link.dataset.text, null);
  });

  function closeMenu() {
    if (menu) menu.remove();
    menu = null;
    token = null;
    reply.removeAttribute("aria-activedescendant");
    reply.setAttribute("aria-expanded", "false");
  }

  function renderMenu() {
    if (!menu) {
      menu = document.createElement("ul");
      menu.className = "slash-menu";
      menu.id = "slash-menu";
      menu.setAttribute("role", "listbox");
      menu.setAttribute("aria-label", "Saved replies");
      reply.closest(".composer-box").append(menu);
      reply.setAttribute("aria-controls", "slash-menu");
      menu.addEventListener("mousedown", (event) => {
        const item = event.target.closest("li[data-index]");
        if (!item) return;
        event.preventDefault(); // keep the focus in the box
        insert(matches[Number(item.dataset.index)].text, token);
      });
    }
    menu.replaceChildren();
    if (!matches.length) {
      const empty = document.createElement("li");
      empty.className = "slash-empty";
      empty.textContent = "No saved reply matches";
      menu.append(empty);
    }
    matches.forEach((reply_, index) => {
      const item = document.createElement("li");
      item.id = "slash-" + index;
      item.dataset.index = String(index);
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      item.classList.toggle("is-active", index === active);
      const shortcut = document.createElement("span");
      shortcut.className = "saved-shortcut";
      shortcut.textContent = "/" + reply_.shortcut;
      const title = document.createElement("span");
      title.className = "saved-title";
      title.textContent = " " + reply_.title;
      item.append(shortcut, title);
      menu.append(item);
    });
    reply.setAttribute("aria-expanded", "true");
    if (matches.length) {
      reply.setAttribute("aria-activedescendant", "slash-" + active);
      $("#slash-" + active).scrollIntoView({ block: "nearest" });
    }
  }

  function updateMenu() {
    if (!saved.length || reply.selectionStart !== reply.selectionEnd) return closeMenu();
    const before = reply.value.slice(0, reply.selectionStart);
    const typed = /(^|\s)\/([\w-]*)$/.exec(before);
    if (!typed) return closeMenu();
    const query = typed[2].toLowerCase();
    token = { start: reply.selectionStart - query.length - 1, end: reply.selectionStart };
    matches = saved.filter((r) => r.shortcut.toLowerCase().startsWith(query))
      .concat(saved.filter((r) => !r.shortcut.toLowerCase().startsWith(query) &&
        (r.shortcut.toLowerCase().includes(query) || r.title.toLowerCase().includes(query))));
    active = Math.min(active, Math.max(matches.length - 1, 0));
    renderMenu();
  }

  reply.addEventListener("input", () => { active = 0; updateMenu(); });
  reply.addEventListener("blur", () => setTimeout(closeMenu, 150));
  // Before the box's own keys (Enter sends, Escape leaves): the menu's, while it is open.
  composer.addEventListener("keydown", (event) => {
    if (!menu || event.target !== reply) return;
    const keys = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in keys) {
      if (matches.length) active = (active + keys[event.key] + matches.length) % matches.length;
      renderMenu();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && matches.length) {
      insert(matches[active].text, token);
    } else if (event.key === "Escape") {
      closeMenu();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  }, true);
})();
