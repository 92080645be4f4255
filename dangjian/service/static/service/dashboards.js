/* 服务看板: draws the charts from the JSON in #dash-data (json_script; the CSP forbids inline scripts).
   Every chart has a table next to it, so the page says the same without JavaScript or ECharts. */
(function () {
  "use strict";
  var RED = "#c8102e", GOLD = "#d4a017", BLUE = "#2f6fb3", GREEN = "#2e8b57", GREY = "#8a8f98";

  function draw(id, option, charts) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el);
    var base = { grid: { left: 44, right: 44, top: 36, bottom: 28, containLabel: false },
                 tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" } };
    chart.setOption(Object.assign(base, option));
    charts.push(chart);
  }

  function init() {
    var holder = document.getElementById("dash-data");
    if (!holder || typeof window.echarts === "undefined") { return; }
    var d = JSON.parse(holder.textContent), L = d.labels, charts = [];
    var x = { type: "category", data: d.months };
    draw("chart-needs-month", {
      xAxis: x, yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.need_government, type: "bar", stack: "n", barMaxWidth: 36, itemStyle: { color: GOLD }, data: d.needs_month.government },
        { name: L.need_people, type: "bar", stack: "n", barMaxWidth: 36, itemStyle: { color: RED }, data: d.needs_month.people }
      ]
    }, charts);
    draw("chart-needs-category", {
      tooltip: { trigger: "item" }, legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], data: d.needs_category,
                 color: [RED, GOLD, BLUE, GREEN, GREY] }]
    }, charts);
    draw("chart-needs-area", {
      grid: { left: 90, right: 24, top: 12, bottom: 24 }, legend: { show: false },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: d.needs_area.map(function (r) { return r.name; }) },
      series: [{ type: "bar", barMaxWidth: 24, itemStyle: { color: RED }, data: d.needs_area.map(function (r) { return r.value; }) }]
    }, charts);
    draw("chart-tickets", {
      xAxis: x,
      yAxis: [{ type: "value" }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: L.mean, type: "bar", itemStyle: { color: GOLD }, data: d.tickets.mean },
        { name: L.median, type: "bar", itemStyle: { color: BLUE }, data: d.tickets.median },
        { name: L.rate, type: "line", yAxisIndex: 1, connectNulls: true, itemStyle: { color: RED }, data: d.tickets.rate }
      ]
    }, charts);
    draw("chart-satisfaction", {
      xAxis: x, yAxis: { type: "value", scale: true, max: 100 },
      series: [
        { name: L.customer, type: "line", connectNulls: true, itemStyle: { color: RED }, data: d.satisfaction.customer },
        { name: L.government, type: "line", connectNulls: true, itemStyle: { color: BLUE }, data: d.satisfaction.government }
      ]
    }, charts);
    draw("chart-teams", {
      xAxis: x, yAxis: [{ type: "value" }, { type: "value", minInterval: 1 }],
      series: [
        { name: L.hours, type: "bar", barMaxWidth: 36, itemStyle: { color: RED }, data: d.teams.hours },
        { name: L.served, type: "line", yAxisIndex: 1, itemStyle: { color: GOLD }, data: d.teams.served }
      ]
    }, charts);
    draw("chart-before-after", {
      xAxis: { type: "category", data: d.before_after.map(function (r) { return r.name; }),
               axisLabel: { interval: 0, rotate: 30, fontSize: 10 } },
      grid: { left: 44, right: 16, top: 36, bottom: 70 },
      yAxis: { type: "value", scale: true, max: 100 },
      series: [
        { name: L.before, type: "bar", barMaxWidth: 40, itemStyle: { color: GREY }, data: d.before_after.map(function (r) { return r.before; }) },
        { name: L.after, type: "bar", barMaxWidth: 40, itemStyle: { color: GREEN }, data: d.before_after.map(function (r) { return r.after; }) }
      ]
    }, charts);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
