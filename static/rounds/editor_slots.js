// Rounds post editor: progressive person and image slots, and the searchable consent picker.
// The form works without it: every slot is then shown and the consent list is the server's.
(function () {
  "use strict";

  var form = document.querySelector("form[data-editor]");
  if (!form) { return; }

  // Slots: one empty person and one empty image slot; "Add a ..." shows the next --------------

  form.querySelectorAll("[data-slots]").forEach(function (section) {
    var button = section.querySelector("[data-add-slot]");
    var extras = Array.from(section.querySelectorAll("[data-slot-extra]"));
    if (!button || !extras.length) { return; }
    extras.forEach(function (slot) { slot.hidden = true; });
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = extras.shift();
      if (!next) { return; }
      next.hidden = false;
      var first = next.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
      if (!extras.length) { button.hidden = true; }
    });
  });

  // The consent picker: type to search the registry (debounced); only consents covering what the row shows.
  // The page lists only what each row needs; the server answers searches (posts:consent_options).

  var consentsUrl = form.getAttribute("data-consents-url");
  var SCOPE = ["targets", "scheduled_date", "scheduled_time", "time_zone", "campaign"];
  var SEARCH_DELAY = 300;
  var pickers = [];

  function rowKinds(picker) {
    return Array.from(picker.row.querySelectorAll("input[name^=featured_kinds_]:checked"))
      .map(function (box) { return box.value; });
  }

  function rowReference(picker) {
    var reference = picker.row.querySelector("input[name^=featured_subject_]");
    return reference ? reference.value.trim() : "";
  }

  function optionsOf(select) {
    return Array.from(select.options).filter(function (option) { return option.value; }).map(function (option) {
      return {
        value: option.value,
        label: option.textContent,
        reference: option.getAttribute("data-reference") || "",
        kinds: (option.getAttribute("data-kinds") || "").split(" ").filter(Boolean)
      };
    });
  }

  function render(picker, announce) {
    var select = picker.select;
    var chosen = select.value;
    var kinds = rowKinds(picker);
    var blank = select.querySelector("option[value='']");
    var shown = 0;
    select.replaceChildren();
    if (blank) { select.appendChild(blank); }
    picker.options.forEach(function (option) {
      var covers = kinds.every(function (kind) { return option.kinds.indexOf(kind) !== -1; });
      if (option.value !== chosen && !covers) { return; }
      var node = document.createElement("option");
      node.value = option.value;
      node.textContent = option.label;
      node.setAttribute("data-reference", option.reference);
      node.setAttribute("data-kinds", option.kinds.join(" "));
      select.appendChild(node);
      if (option.value !== chosen) { shown += 1; }
    });
    select.value = chosen;
    if (announce && picker.status) {
      var text = shown ? picker.status.getAttribute("data-found") : picker.status.getAttribute("data-none");
      picker.status.textContent = (text || "").replace("{count}", String(shown)) +
        (picker.more ? " " + (picker.status.getAttribute("data-more") || "") : "");
    }
  }

  function scopeParams() {
    var params = new URLSearchParams();
    var data = new FormData(form);
    ["post"].concat(SCOPE).forEach(function (name) {
      data.getAll(name).forEach(function (value) { if (typeof value === "string") { params.append(name, value); } });
    });
    return params;
  }

  function search(picker) {
    var words = picker.filter.value.trim();
    var reference = rowReference(picker);
    if (!consentsUrl || (!words && !reference)) {
      picker.options = picker.options.filter(function (option) { return option.value === picker.select.value; });
      picker.more = false;
      render(picker, Boolean(picker.status && picker.status.textContent));
      return;
    }
    var params = scopeParams();
    if (words) { params.set("q", words); }
    if (reference) { params.set("reference", reference); }
    var mine = ++picker.asked;
    picker.select.setAttribute("aria-busy", "true");
    fetch(consentsUrl + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        if (mine !== picker.asked) { return; }
        var options = body.options.map(function (option) {
          return { value: String(option.id), label: option.label, reference: option.reference, kinds: option.kinds };
        });
        // The chosen consent stays listed, so nothing changes behind the editor's back; saving checks it.
        var chosen = picker.select.value;
        var known = options.some(function (option) { return option.value === chosen; });
        var kept = picker.options.filter(function (option) { return !known && option.value === chosen; });
        picker.options = options.concat(kept);
        picker.more = Boolean(body.more);
        render(picker, true);
      })
      .catch(function () { /* keep the list shown; the search button still asks the server */ })
      .finally(function () { if (mine === picker.asked) { picker.select.removeAttribute("aria-busy"); } });
  }

  function searchSoon(picker) {
    window.clearTimeout(picker.timer);
    picker.timer = window.setTimeout(function () { search(picker); }, SEARCH_DELAY);
  }

  form.querySelectorAll("[data-consent-picker]").forEach(function (container) {
    var select = container.querySelector("select");
    var filter = container.querySelector("[data-consent-filter]");
    if (!select || !filter) { return; }
    var picker = {
      row: container.closest("[data-slot]") || container,
      select: select,
      filter: filter,
      status: container.querySelector("[data-consent-status]"),
      options: optionsOf(select),
      more: false,
      asked: 0,
      timer: null
    };
    pickers.push(picker);
    var find = container.querySelector("[data-consent-find]");
    if (find && consentsUrl) { find.hidden = true; }
    filter.addEventListener("input", function () { searchSoon(picker); });
    // Enter or Down in the search box goes on to the list it filled, rather than saving the whole post.
    filter.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== "ArrowDown") { return; }
      event.preventDefault();
      window.clearTimeout(picker.timer);
      if (event.key === "Enter") { search(picker); }
      select.focus();
    });
    picker.row.addEventListener("change", function (event) {
      if ((event.target.name || "").indexOf("featured_kinds_") === 0) { render(picker, true); }
    });
    // A person's reference, as it is typed, lists that person's usable consents.
    picker.row.addEventListener("input", function (event) {
      if ((event.target.name || "").indexOf("featured_subject_") === 0) { searchSoon(picker); }
    });
    select.addEventListener("change", function () {
      // Choosing a consent names its person, unless the editor already typed a reference.
      var option = select.options[select.selectedIndex];
      var reference = picker.row.querySelector("input[name^=featured_subject_]");
      if (option && reference && !reference.value && option.getAttribute("data-reference")) {
        reference.value = option.getAttribute("data-reference");
        reference.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  });

  // Which consents are valid depends on the targets, the date and the campaign: ask again.
  if (consentsUrl && pickers.length) {
    form.addEventListener("change", function (event) {
      if (SCOPE.indexOf(event.target.name) !== -1) { pickers.forEach(searchSoon); }
    });
  }
})();
