// Import plan: move the progress bar of a plan being checked or imported, without reloading;
// reload once the work is done so the page shows the preview or the result.
(function () {
  "use strict";

  function start(box) {
    var url = box.getAttribute("data-plan-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-plan-progress-text]");
    var delay = 700;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (state) {
          if (state.finished) { window.location.reload(); return; }
          if (bar) {
            bar.max = Math.max(state.total, 1);
            bar.value = state.done;
          }
          if (text) { text.textContent = state.done + " / " + state.total; }
          window.setTimeout(poll, delay);
        })
        .catch(function () { window.setTimeout(poll, delay * 4); });
    }

    window.setTimeout(poll, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-plan-progress]");
    for (var i = 0; i < boxes.length; i++) { start(boxes[i]); }
  });
})();
