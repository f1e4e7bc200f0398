// Rounds previews: show a chosen, unsent image in the platform previews (the server has not seen it),
// and refresh while a link card is being fetched.
// The previews themselves are rendered by the server (posts/previews.py) and refreshed while typing.
(function () {
  "use strict";

  var box = document.getElementById("editor-findings");
  var form = document.querySelector("form[data-editor]");
  if (!box || !form) { return; }
  var urls = {};

  function chosenFiles() {
    var files = [];
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      if (input.files && input.files[0] && /^image\//.test(input.files[0].type)) { files.push(input.files[0]); }
    });
    return files;
  }

  function fill() {
    var placeholders = box.querySelectorAll("[data-pv-new]");
    if (!placeholders.length) { return; }
    var files = chosenFiles();
    placeholders.forEach(function (node) {
      var file = files[Number(node.getAttribute("data-pv-new"))];
      if (!file) { return; }
      var image = document.createElement("img");
      if (!urls[file.name + file.size]) { urls[file.name + file.size] = URL.createObjectURL(file); }
      image.src = urls[file.name + file.size];
      image.alt = node.getAttribute("data-pv-alt") || "";
      node.replaceWith(image);
    });
  }

  // A link card still being fetched in the background: ask for the previews again a few times.
  var polls = 0;
  var pollTimer = 0;
  function pollCards() {
    window.clearTimeout(pollTimer);
    if (!box.querySelector("[data-pv-card-pending]") || polls >= 10) { return; }
    pollTimer = window.setTimeout(function () {
      polls += 1;
      form.dispatchEvent(new Event("change", { bubbles: true }));
    }, 2500);
  }
  form.addEventListener("input", function () { polls = 0; });

  new MutationObserver(function () { fill(); pollCards(); }).observe(box, { childList: true });
  fill();
  pollCards();
})();
