// Needs part: copy the public link, print the poster. No inline scripts (CSP).
document.addEventListener("click", function (ev) {
  const copy = ev.target.closest("[data-need-copy]");
  if (copy) {
    const input = document.getElementById(copy.getAttribute("data-need-copy"));
    if (input) {
      input.select();
      if (navigator.clipboard) navigator.clipboard.writeText(input.value);
      else document.execCommand("copy");
      copy.textContent = copy.getAttribute("data-copied") || copy.textContent;
    }
  }
  if (ev.target.closest("[data-need-print]")) window.print();
});
