// Rounds image checks (posts.scans): they run in the background after an image is saved. While one is not
// finished, ask the server again every two seconds, show where each stands, and say when one ends
// (the editor refreshes its findings; the post page offers to reload). Without script the page says
// where the checks stood when it was loaded.
(function () {
  "use strict";

  var root = document.querySelector("[data-checks-url]");
  if (!root) { return; }
  var url = root.getAttribute("data-checks-url");
  var EVERY = 2000;
  var TRIES = 300;
  var tries = 0;

  function pending() {
    return document.querySelectorAll("[data-media-check][data-finished='false']").length > 0;
  }

  function show(states) {
    var ended = false;
    states.forEach(function (state) {
      var node = document.querySelector("[data-media-check='" + state.media + "']");
      if (!node) { return; }
      if (state.finished && node.getAttribute("data-finished") !== "true") { ended = true; }
      node.setAttribute("data-status", state.status);
      node.setAttribute("data-finished", state.finished ? "true" : "false");
      node.textContent = state.summary;
    });
    if (ended) {
      document.querySelectorAll("[data-checks-ended]").forEach(function (node) { node.hidden = false; });
      document.dispatchEvent(new CustomEvent("rounds:image-checked"));
    }
  }

  function poll() {
    if (!pending() || tries >= TRIES) { return; }
    tries += 1;
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (answer) { show(answer.checks); })
        .catch(function () { /* asked again below */ })
        .finally(poll);
    }, EVERY);
  }

  poll();
})();
