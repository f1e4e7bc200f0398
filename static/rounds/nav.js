// The top bar's "Menu" button: on narrow screens (and wherever the bar would not fit on one line)
// the navigation and the user menu fold behind it. Without this script they stay visible and wrap.
(function () {
  "use strict";

  var toggle = document.querySelector("[data-menu-toggle]");
  if (!toggle) { return; }
  var bar = toggle.closest(".topbar");
  var menu = document.getElementById(toggle.getAttribute("aria-controls"));
  if (!bar || !menu) { return; }

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("is-open", open);
  }

  function isOpen() {
    return toggle.getAttribute("aria-expanded") === "true";
  }

  // Above the phone breakpoint the bar stays on one line: when its content is wider than the
  // window (long words, many rights), it folds behind the button as on a phone.
  function fit() {
    bar.classList.remove("topbar-folded");
    if (window.getComputedStyle(toggle).display !== "none") { return; }
    if (bar.scrollWidth > bar.clientWidth + 1) { bar.classList.add("topbar-folded"); }
  }

  toggle.hidden = false;
  bar.classList.add("topbar-js");
  setOpen(false);
  fit();

  // The menu follows the button in the page, so Tab goes on into it; focus stays where it was.
  toggle.addEventListener("click", function () { setOpen(!isOpen()); });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      setOpen(false);
      toggle.focus();
    }
  });

  document.addEventListener("click", function (event) {
    if (isOpen() && !menu.contains(event.target) && !toggle.contains(event.target)) { setOpen(false); }
  });

  var pending = 0;
  window.addEventListener("resize", function () {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(fit);
  });
})();
