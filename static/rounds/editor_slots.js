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

  // The consent picker: type to filter; only consents covering what the row shows -------------

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var pickers = [];

  function rowKinds(picker) {
    return Array.from(picker.row.querySelectorAll("input[name^=featured_kinds_]:checked"))
      .map(function (box) { return box.value; });
  }

  function render(picker) {
    var select = picker.select;
    var chosen = select.value;
    var words = fold(picker.filter.value).split(/\s+/).filter(Boolean);
    var kinds = rowKinds(picker);
    var blank = select.querySelector("option[value='']");
    select.replaceChildren();
    if (blank) { select.appendChild(blank); }
    picker.options.forEach(function (option) {
      var haystack = fold(option.search + " " + option.label);
      var matches = words.every(function (word) { return haystack.indexOf(word) !== -1; });
      var covers = kinds.every(function (kind) { return option.kinds.indexOf(kind) !== -1; });
      if (option.value !== chosen && !(matches && covers)) { return; }
      var node = document.createElement("option");
      node.value = option.value;
      node.textContent = option.label;
      node.setAttribute("data-reference", option.reference);
      select.appendChild(node);
    });
    select.value = chosen;
  }

  form.querySelectorAll("[data-consent-picker]").forEach(function (container) {
    var select = container.querySelector("select");
    var filter = container.querySelector("[data-consent-filter]");
    var search = container.querySelector("[data-consent-search]");
    if (!select || !filter) { return; }
    var picker = {
      row: container.closest("[data-slot]") || container,
      select: select,
      filter: filter,
      options: Array.from(select.options).filter(function (option) { return option.value; }).map(function (option) {
        return {
          value: option.value,
          label: option.textContent,
          search: option.getAttribute("data-search") || "",
          reference: option.getAttribute("data-reference") || "",
          kinds: (option.getAttribute("data-kinds") || "").split(" ").filter(Boolean)
        };
      })
    };
    pickers.push(picker);
    if (search) { search.hidden = false; }
    filter.addEventListener("input", function () { render(picker); });
    // Enter in the search box goes on to the list it filtered, rather than saving the whole post.
    filter.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      select.focus();
    });
    picker.row.addEventListener("change", function (event) {
      if (event.target.name && event.target.name.indexOf("featured_kinds_") === 0) { render(picker); }
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
  var consentsUrl = form.getAttribute("data-consents-url");
  var SCOPE = ["targets", "scheduled_date", "scheduled_time", "time_zone", "campaign"];
  var asked = 0;

  function reload() {
    var params = new URLSearchParams();
    ["post"].concat(SCOPE).forEach(function (name) {
      var data = new FormData(form);
      data.getAll(name).forEach(function (value) { if (typeof value === "string") { params.append(name, value); } });
    });
    var mine = ++asked;
    fetch(consentsUrl + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        if (mine !== asked) { return; }
        var options = body.options.map(function (option) {
          return {
            value: String(option.id), label: option.label, search: option.search,
            reference: option.reference, kinds: option.kinds
          };
        });
        pickers.forEach(function (picker) {
          // The chosen consent stays listed, so nothing changes behind the editor's back; saving checks it.
          var chosen = picker.select.value;
          var known = options.some(function (option) { return option.value === chosen; });
          var kept = picker.options.filter(function (option) { return !known && option.value === chosen; });
          picker.options = options.concat(kept);
          render(picker);
        });
      })
      .catch(function () { /* keep the list the page was rendered with */ });
  }

  if (consentsUrl && pickers.length) {
    form.addEventListener("change", function (event) {
      if (SCOPE.indexOf(event.target.name) !== -1) { reload(); }
    });
  }
})();
