/* 对标: draws the gap and trend charts of the organization page from its JSON endpoint (the data-url of #bench,
   same access check as the page; the CSP forbids inline scripts). Every chart has a table beside it, so the page
   says the same without JavaScript. Also the print button of the organization and annual pages. */
(function () {
  "use strict";
  var RED = "#c8102e", GOLD = "#d4a017", BLUE = "#2f6fb3", GREY = "#8a8f98";

  function draw(id, option, charts) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el);
    var base = { grid: { left: 48, right: 24, top: 36, bottom: 28, containLabel: false },
                 tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" } };
    chart.setOption(Object.assign(base, option));
    charts.push(chart);
  }

  function render(d) {
    var L = d.labels, charts = [];
    var gaps = d.gaps || [];
    draw("chart-gaps", {
      grid: { left: 70, right: 24, top: 36, bottom: 24 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: gaps.map(function (r) { return r.code; }) },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 formatter: function (ps) {
                   var r = gaps[ps[0].dataIndex];
                   return r.code + " " + r.text.slice(0, 30) + "<br>" +
                     ps.map(function (p) { return p.marker + p.seriesName + ": " + p.value; }).join("<br>");
                 } },
      series: [
        { name: L.gap_best, type: "bar", barMaxWidth: 18, itemStyle: { color: RED },
          data: gaps.map(function (r) { return r.gap_best; }) },
        { name: L.gap_avg, type: "bar", barMaxWidth: 18, itemStyle: { color: GOLD },
          data: gaps.map(function (r) { return r.gap_avg; }) }
      ]
    }, charts);
    var trend = d.trend || [];
    draw("chart-trend", {
      xAxis: { type: "category", data: trend.map(function (r) { return r.month; }) },
      yAxis: { type: "value", scale: true, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: L.rate, type: "line", itemStyle: { color: RED }, lineStyle: { width: 3 },
          data: trend.map(function (r) { return r.score_rate; }) },
        { name: L.avg, type: "line", connectNulls: true, itemStyle: { color: BLUE },
          data: trend.map(function (r) { return r.peer_avg_rate; }) },
        { name: L.best, type: "line", connectNulls: true, lineStyle: { type: "dashed" }, itemStyle: { color: GREY },
          data: trend.map(function (r) { return r.peer_best_rate; }) }
      ]
    }, charts);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  function init() {
    var holder = document.getElementById("bench");
    if (!holder || typeof window.echarts === "undefined") { return; }
    if (!document.getElementById("chart-gaps") && !document.getElementById("chart-trend")) { return; }
    fetch(holder.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.json(); })
      .then(render)
      .catch(function () { holder.setAttribute("data-chart-error", "1"); });
  }

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-bench-print]")) { window.print(); }
  });
  document.addEventListener("DOMContentLoaded", init);
})();
