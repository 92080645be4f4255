// The activity pages. No inline scripts (CSP): behaviour hangs on data attributes.
(function () {
  "use strict";

  // Attendance: a note for leave and absence only; "all present"; a 支委会 lists only the committee until touched.
  function noteFor(row) { return row.querySelector(".att-note"); }
  function syncNote(row) {
    const checked = row.querySelector("input[type=radio]:checked");
    const note = noteFor(row);
    if (!note || !checked) return;
    const show = checked.value === "leave" || checked.value === "absent" || note.value.trim() !== "";
    note.classList.toggle("d-none", !show);
  }
  function setStatus(row, value) {
    const radio = row.querySelector("input[type=radio][value='" + value + "']");
    if (radio) { radio.checked = true; syncNote(row); }
  }
  document.querySelectorAll("[data-attendance-form]").forEach(function (form) {
    let touched = false;
    const rows = form.querySelectorAll(".att-row");
    form.addEventListener("change", function (ev) {
      const row = ev.target.closest(".att-row");
      if (row && ev.target.type === "radio") { touched = true; syncNote(row); }
      if (ev.target.name === "kind" && !touched) {
        const committee = ev.target.value === "committee";
        const anyCommittee = Array.prototype.some.call(rows, function (r) { return r.dataset.committee === "1"; });
        rows.forEach(function (r) {
          if (committee && anyCommittee) setStatus(r, r.dataset.committee === "1" ? "present" : "-");
          else setStatus(r, "present");
        });
      }
    });
    const all = form.querySelector("[data-att-all]");
    if (all) all.addEventListener("click", function () {
      touched = true;
      rows.forEach(function (r) { setStatus(r, all.dataset.attAll); });
    });
  });

  // The member's quick entry: hour presets.
  document.querySelectorAll("[data-hours-presets]").forEach(function (box) {
    const input = document.getElementById(box.dataset.hoursPresets);
    box.addEventListener("click", function (ev) {
      const btn = ev.target.closest("[data-hours]");
      if (btn && input) input.value = btn.dataset.hours;
    });
  });

  // A branch's dues: one date into every row that has an amount but no date (or no date at all).
  document.querySelectorAll("[data-dues-form]").forEach(function (form) {
    const btn = form.querySelector("[data-fill-dates]");
    const day = form.querySelector(".fill-date");
    if (!btn || !day) return;
    btn.addEventListener("click", function () {
      form.querySelectorAll("tbody tr").forEach(function (tr) {
        const date = tr.querySelector(".dues-date");
        const amount = tr.querySelector(".dues-amount");
        if (date && !date.value && amount && amount.value) date.value = day.value;
      });
    });
  });
})();
