/* The member evaluation pages: count steppers, remarks shown when a count is reported, the live running total
   (computed in tenths from the data attributes, the same rules as appraisal/scoring.py; the server's figures
   are the truth), "check all" on the branch page, and the trend chart of "我的评价". */
(function () {
  "use strict";

  function tenths(text) {
    if (text === undefined || text === null || text === "") { return null; }
    return Math.round(parseFloat(text) * 10);
  }
  function show(t) {
    var neg = t < 0, a = Math.abs(t);
    return (neg ? "-" : "") + Math.floor(a / 10) + "." + (a % 10);
  }
  function countOf(card) {
    var input = card.querySelector(".ap-count");
    if (!input) { return 0; }
    var n = parseInt(input.value, 10);
    return isNaN(n) || n < 0 ? 0 : n;
  }
  function linePoints(card, n) {
    var part = card.dataset.part, pts = tenths(card.dataset.points) || 0;
    if (part === "veto") { return 0; }
    if (part === "base") {
      if (n === 0) { return pts; }
      var perMiss = tenths(card.dataset.perMiss);
      if (perMiss === null) { return 0; }
      return Math.max(0, pts - perMiss * n);
    }
    var value = pts * n, cap = tenths(card.dataset.monthCap), left = tenths(card.dataset.yearLeft);
    if (cap !== null) { value = Math.min(value, cap); }
    if (left !== null) { value = Math.min(value, left); }
    return part === "deduction" ? -value : value;
  }

  function recompute(form) {
    var base = 0, ded = 0, dims = {}, vetoed = false;
    form.querySelectorAll(".ap-line-card").forEach(function (card) {
      var n = countOf(card), p = linePoints(card, n), part = card.dataset.part;
      var out = card.querySelector(".ap-pts");
      if (out && card.querySelector(".ap-count")) { out.textContent = show(p); }
      if (part === "base") { base += p; }
      else if (part === "bonus") { dims[card.dataset.dim] = (dims[card.dataset.dim] || 0) + p; }
      else if (part === "deduction") { ded += -p; }
      else if (part === "veto" && n > 0) { vetoed = true; }
      var remark = card.querySelector(".ap-remark");
      if (remark && n > 0) { remark.classList.remove("d-none"); }
      var met = card.querySelector(".ap-met");
      if (met) { met.classList.toggle("d-none", n !== 0); }
    });
    var caps = {};
    (form.dataset.dims || "").split(";").forEach(function (pair) {
      var kv = pair.split(":");
      if (kv.length === 2) { caps[kv[0]] = tenths(kv[1]); }
    });
    var bonus = 0;
    Object.keys(dims).forEach(function (d) {
      bonus += caps[d] !== undefined && caps[d] !== null ? Math.min(dims[d], caps[d]) : dims[d];
    });
    var bonusCap = tenths(form.dataset.bonusCap), dedCap = tenths(form.dataset.dedCap);
    var floor = tenths(form.dataset.floor);
    if (bonusCap !== null) { bonus = Math.min(bonus, bonusCap); }
    if (dedCap !== null) { ded = Math.min(ded, dedCap); }
    var total = base + bonus - ded;
    if (floor !== null) { total = Math.max(total, floor); }
    var target = document.getElementById("live-total");
    if (target) {
      target.textContent = show(total);
      target.classList.toggle("text-danger", vetoed);
    }
  }

  function initForm(form) {
    form.addEventListener("click", function (e) {
      var btn = e.target.closest(".ap-minus-btn, .ap-plus-btn");
      if (!btn) { return; }
      var input = btn.parentElement.querySelector(".ap-count");
      var n = parseInt(input.value, 10);
      if (isNaN(n)) { n = 0; }
      n += btn.classList.contains("ap-plus-btn") ? 1 : -1;
      input.value = Math.max(0, Math.min(parseInt(input.max || "99", 10), n));
      recompute(form);
    });
    form.addEventListener("input", function () { recompute(form); });
    form.addEventListener("change", function () { recompute(form); });
    if (form.dataset.mode) { recompute(form); }
  }

  function initCheckAll() {
    var all = document.getElementById("check-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      document.querySelectorAll(".ev-check").forEach(function (c) { c.checked = all.checked; });
    });
  }

  function initChart() {
    var el = document.getElementById("trend-chart"), data = document.getElementById("trend-data");
    if (!el || !data || typeof window.echarts === "undefined") { return; }
    var rows = JSON.parse(data.textContent);
    var chart = window.echarts.init(el);
    chart.setOption({
      grid: { left: 40, right: 16, top: 24, bottom: 32 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(function (r) { return r.month; }) },
      yAxis: { type: "value", scale: true },
      series: [{ name: el.dataset.label, type: "line", smooth: true, itemStyle: { color: "#c8102e" },
                 label: { show: true }, data: rows.map(function (r) { return parseFloat(r.total); }) }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("eval-form");
    if (form) { initForm(form); }
    initCheckAll();
    initChart();
  });
})();
