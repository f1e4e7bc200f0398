// The editor's "Use selected text": copies the words selected in the post's text into the new
// claim's passage field. Without JavaScript the passage is typed; the server checks it either way.
(function () {
  "use strict";

  function init() {
    var form = document.querySelector("[data-claim-new]");
    var body = document.getElementById("id_body");
    if (!form || !body) {
      return;
    }
    var button = form.querySelector("[data-claim-use-selection]");
    var hint = form.querySelector("[data-claim-hint]");
    var passage = form.querySelector("[data-claim-passage]");
    var last = "";

    function remember() {
      var start = body.selectionStart;
      var end = body.selectionEnd;
      if (typeof start === "number" && end > start) {
        last = body.value.slice(start, end).trim();
      }
    }

    body.addEventListener("select", remember);
    body.addEventListener("keyup", remember);
    body.addEventListener("mouseup", remember);
    button.hidden = false;
    hint.hidden = false;
    button.addEventListener("click", function () {
      remember();
      if (!last) {
        body.focus();
        return;
      }
      passage.value = last;
      var kind = form.querySelector("select[name=source_kind]");
      (kind || passage).focus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
