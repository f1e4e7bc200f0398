// Rounds: small progressive enhancements. No inline scripts anywhere (CSP-friendly).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  });
})();
