// Rounds: small progressive enhancements. No inline scripts anywhere (CSP-friendly).
(function () {
  "use strict";

  function send(form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function autosubmitted(element) {
    return element && element.closest ? element.closest("form[data-autosubmit]") : null;
  }

  // Arrow keys on a closed list change its value at once: a keyboard user browsing the choices must
  // not be sent to another page at every step (WCAG 3.2.2). Such a change waits for Enter.
  var browsing = null;

  document.addEventListener("keydown", function (event) {
    var form = autosubmitted(event.target);
    if (!form || event.target.tagName !== "SELECT") { return; }
    if (event.key === "Enter") {
      event.preventDefault();
      browsing = null;
      send(form);
      return;
    }
    browsing = event.target;
    window.setTimeout(function () { browsing = null; }, 0);
  });

  document.addEventListener("change", function (event) {
    var form = autosubmitted(event.target);
    if (!form || event.target === browsing) { return; }
    send(form);
  });
})();
