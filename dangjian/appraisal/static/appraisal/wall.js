// The wall (上墙). No inline scripts anywhere (CSP): everything is wired here from data- attributes.
(function () {
  "use strict";

  // Cards: a tap on a long pledge shows all of it.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-wall-pledge]");
    if (el) el.classList.toggle("open");
  });

  // Management page: copy a link.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () {
      var old = btn.textContent;
      btn.textContent = btn.getAttribute("data-copied") || old;
      setTimeout(function () { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // ---- the big screen ----
  var screen = document.querySelector("[data-wall-screen]");
  if (!screen) return;

  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var clock = screen.querySelector("[data-clock]");
  var dateEl = screen.querySelector("[data-date]");
  var weekdays = (screen.getAttribute("data-weekdays") || "").split(",");
  function tick() {
    var now = new Date();
    if (clock) clock.textContent = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
    if (dateEl) {
      dateEl.textContent = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) +
        (weekdays.length === 7 ? " " + weekdays[now.getDay()] : "");
    }
  }
  tick();
  setInterval(tick, 1000);

  var grid = screen.querySelector("[data-per-page]");
  var cards = grid ? Array.prototype.slice.call(grid.querySelectorAll("[data-card]")) : [];
  var perPage = grid ? Math.max(1, parseInt(grid.getAttribute("data-per-page"), 10) || 8) : 8;
  var interval = Math.max(5, parseInt(screen.getAttribute("data-interval"), 10) || 10) * 1000;
  var pages = Math.max(1, Math.ceil(cards.length / perPage));
  var pageEl = screen.querySelector("[data-page]");
  var bar = screen.querySelector("[data-progress]");
  var page = 0;

  function show(n) {
    page = n % pages;
    cards.forEach(function (card, i) {
      card.hidden = Math.floor(i / perPage) !== page;
    });
    if (pageEl) pageEl.textContent = (page + 1) + " / " + pages;
    if (bar && pages > 1) {
      bar.style.transitionDuration = "0s";
      bar.style.width = "0";
      // Next frame: run the bar over the page's time.
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          bar.style.transitionDuration = interval + "ms";
          bar.style.width = "100%";
        });
      });
    }
  }
  show(0);
  var reloadAfter = Math.max(60, parseInt(screen.getAttribute("data-reload"), 10) || 1800) * 1000;
  var started = Date.now();
  setInterval(function () {
    if (page + 1 >= pages) {
      // A new month may have been published: reload between rounds, never in the middle of one.
      if (Date.now() - started >= reloadAfter) {
        window.location.reload();
        return;
      }
    }
    if (pages > 1) show(page + 1);
  }, interval);

  // Full screen on a click or the F key (the TV's remote often sends Enter).
  function fullscreen() {
    var el = document.documentElement;
    if (!document.fullscreenElement && el.requestFullscreen) el.requestFullscreen().catch(function () {});
  }
  screen.addEventListener("click", fullscreen);
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "f" || ev.key === "F" || ev.key === "Enter") fullscreen();
    if (ev.key === "ArrowRight" && pages > 1) show(page + 1);
    if (ev.key === "ArrowLeft" && pages > 1) show(page - 1 + pages);
  });
})();
