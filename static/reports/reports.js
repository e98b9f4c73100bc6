/* Draws the reports page's charts with the vendored Chart.js. The numbers come from the
   page itself (`json_script`: a JSON block, not script) and every chart has a table with
   the same numbers beside it, so the page says everything without this file. */
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var css = getComputedStyle(document.documentElement);
  function color(name, fallback) {
    var value = css.getPropertyValue(name).trim();
    return value || fallback;
  }
  var accent = color("--accent", "#4f46e5");
  var muted = color("--muted", "#667085");
  var border = color("--border", "#e4e7ec");
  var ok = color("--ok", "#067647");
  var warn = color("--warn", "#b54708");
  var danger = color("--danger", "#c01048");
  var faint = color("--faint", "#98a2b3");
  var fg = color("--fg", "#16181d");

  Chart.defaults.color = muted;
  Chart.defaults.borderColor = border;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily || "system-ui, sans-serif";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var chart = new Chart(canvas, config);
    canvas.setAttribute("data-drawn", "true");
    return chart;
  }

  var windowColors = { hour: ok, day: accent, week: warn, later: faint, never: danger, open: faint };
  draw("chart-window", {
    type: "doughnut",
    data: {
      labels: data.window.labels,
      datasets: [{
        data: data.window.values,
        backgroundColor: data.window.keys.map(function (key) { return windowColors[key] || faint; }),
        borderColor: color("--pane", "#fff"),
      }],
    },
    options: {
      plugins: {
        legend: {
          position: window.matchMedia("(max-width: 560px)").matches ? "bottom" : "right",
          labels: { color: fg, boxWidth: 12 },
        },
      },
    },
  });

  draw("chart-response", {
    type: "bar",
    data: {
      labels: data.response.labels,
      datasets: [{ label: "Conversations", data: data.response.values, backgroundColor: accent }],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });

  draw("chart-volume", {
    type: "bar",
    data: {
      labels: data.volume.labels,
      datasets: [
        { label: "Messages in", data: data.volume.inbound, backgroundColor: accent },
        { label: "Messages out", data: data.volume.outbound, backgroundColor: ok },
        {
          label: "Conversations opened", data: data.volume.opened, type: "line",
          borderColor: warn, backgroundColor: warn, pointRadius: 2, yAxisID: "y",
        },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { labels: { color: fg, boxWidth: 12 } } },
    },
  });
})();
