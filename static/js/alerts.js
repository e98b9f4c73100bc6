// The admins' account alerts, live: a banner appears when an account needs reconnecting and
// goes once it is reconnected, without a reload. Without JavaScript it shows on each page.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const HIDDEN_POLL_MS = 15000;
  const box = document.getElementById("alerts");
  if (!box) return;
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    try {
      const url = box.dataset.alertsUrl + "?v=" + encodeURIComponent(box.dataset.v || "");
      const response = await fetch(url, { headers: { "X-Inbox-Poll": "1" }, credentials: "same-origin" });
      const version = response.headers.get("X-Alerts-Version");
      if (response.status === 200 && version && !response.redirected) {
        box.innerHTML = await response.text();
        box.dataset.v = version;
      }
    } catch (e) { /* offline for a moment: the next poll catches up */ }
    timer = setTimeout(poll, document.visibilityState === "visible" ? POLL_MS : HIDDEN_POLL_MS);
  }
  timer = setTimeout(poll, POLL_MS);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && poll());
  document.body.addEventListener("inbox:changed", () => poll());
})();
