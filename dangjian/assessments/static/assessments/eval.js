// Evaluation pages. No inline scripts or styles anywhere (CSP): widths and quick fills are set from data-*.
(function () {
  function sizeBars(root) {
    root.querySelectorAll(".eval-stacked [data-pct]").forEach(function (el) {
      el.style.width = el.getAttribute("data-pct") + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { sizeBars(document); });
  // 满分: fill the item's score input with its full marks.
  document.addEventListener("click", function (ev) {
    const btn = ev.target.closest("[data-fill]");
    if (!btn) return;
    const input = document.getElementById(btn.getAttribute("data-target"));
    if (input) { input.value = btn.getAttribute("data-fill"); input.focus(); }
  });
})();
