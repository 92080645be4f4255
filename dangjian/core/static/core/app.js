// Small behaviours shared by all pages. No inline scripts anywhere (CSP).
document.addEventListener("click", function (ev) {
  const el = ev.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    ev.preventDefault();
    ev.stopPropagation();
  }
});
document.addEventListener("change", function (ev) {
  const el = ev.target.closest("[data-autosubmit]");
  if (el && el.form) el.form.requestSubmit();
});

// Tree browser: the first click loads the children (HTMX, once); every click opens or closes the node.
document.addEventListener("click", function (ev) {
  const btn = ev.target.closest("[data-tree-toggle]");
  if (!btn) return;
  const li = btn.closest("li");
  const open = li.classList.toggle("open");
  btn.setAttribute("aria-expanded", open ? "true" : "false");
});
