// Year-end page: the candidate box only for 优秀, and the reason marked as needed where the final grade differs
// from the suggestion. The server checks both again (yearend.record_review); this only helps while typing.
(function () {
  function sync(row) {
    const final = row.querySelector("[data-final]");
    if (!final) return;
    const cand = row.querySelector("[data-candidate]");
    const reason = row.querySelector("[data-reason]");
    const excellent = final.value === "excellent";
    if (cand) {
      cand.disabled = !excellent;
      if (!excellent) cand.checked = false;
    }
    if (reason) {
      const needed = final.value !== "" && final.value !== row.getAttribute("data-suggested");
      reason.classList.toggle("ye-needed", needed && reason.value.trim() === "");
      reason.required = needed;
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("tr[data-row]").forEach(sync);
  });
  document.addEventListener("change", function (ev) {
    const row = ev.target.closest("tr[data-row]");
    if (row) sync(row);
  });
  document.addEventListener("input", function (ev) {
    const row = ev.target.closest("tr[data-row]");
    if (row && ev.target.matches("[data-reason]")) sync(row);
  });
})();
