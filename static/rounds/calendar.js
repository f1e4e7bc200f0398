// Calendar: campaign colours, drag & drop of movable cards onto days, and the page's one Move dialog.
// Every card the user may move also has a "Move" link: it opens the dialog, filled from the card
// (the path for keyboards), and without a script it leads to the post's own move page.
(function () {
  "use strict";

  var root = document.querySelector("[data-calendar]");
  if (!root) { return; }
  var live = root.querySelector("[data-cal-live]");
  var dragged = null;

  function paint(scope) {
    var elements = scope.querySelectorAll("[data-campaign-colour]");
    Array.prototype.forEach.call(elements, function (element) {
      var colour = element.getAttribute("data-campaign-colour");
      // CSSOM, not a style attribute: allowed under a Content Security Policy without 'unsafe-inline'.
      if (/^#[0-9a-fA-F]{6}$/.test(colour)) { element.style.setProperty("--campaign-colour", colour); }
    });
  }

  function say(text, isError) {
    if (!live) { return; }
    live.textContent = text || "";
    live.classList.toggle("cal-live-error", Boolean(isError));
  }

  function csrfToken() {
    var input = root.querySelector("[data-cal-csrf]") || document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function dayOf(element) {
    return element && element.closest ? element.closest("[data-date]") : null;
  }

  function clearOver() {
    Array.prototype.forEach.call(root.querySelectorAll(".cal-drop-over"), function (cell) {
      cell.classList.remove("cal-drop-over");
    });
  }

  function insertSorted(list, item) {
    var key = Number(item.getAttribute("data-sort"));
    var before = null;
    Array.prototype.some.call(list.children, function (other) {
      if (other !== item && Number(other.getAttribute("data-sort")) > key) { before = other; return true; }
      return false;
    });
    list.insertBefore(item, before);
  }

  function fromHtml(html) {
    if (!html) { return null; }
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function move(item, cell, confirmed) {
    var card = item.querySelector("[data-move-url]");
    var body = new URLSearchParams();
    body.set("date", cell.getAttribute("data-date"));
    body.set("version", card.getAttribute("data-version") || "");
    if (confirmed) { body.set("confirm", "1"); }
    item.setAttribute("aria-busy", "true");
    fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, errors: [] }; });
    }).then(function (data) {
      item.removeAttribute("aria-busy");
      if (!data.ok && data.confirm && !confirmed) {
        // The new time leaves the open review less than its turnarounds: ask, then send it again.
        if (window.confirm(data.confirm)) { move(item, cell, true); }
        return;
      }
      if (!data.ok) {
        var text = data.errors && data.errors.length ? data.errors.join(" ") : root.getAttribute("data-msg-error");
        if (data.stale) {
          // Someone changed the post since this card was drawn: show the card as it is now.
          var changes = (data.changes || []).map(function (change) {
            return change.label + (change.new ? ": " + (change.old ? change.old + " → " : "") + change.new : "");
          });
          if (changes.length) { text += " " + changes.join("; ") + "."; }
          var current = fromHtml(data.html);
          var stamp = current ? current.querySelector("time[datetime]") : null;
          if (stamp) {
            var home = root.querySelector('[data-date="' + stamp.getAttribute("datetime").slice(0, 10) + '"] .cal-cards');
            item.remove();
            if (home) { insertSorted(home, current); paint(current); }
          }
        }
        say(text, true);
        return;
      }
      var fresh = fromHtml(data.html) || item;
      var target = root.querySelector('[data-date="' + data.date + '"] .cal-cards');
      if (target) {
        insertSorted(target, fresh);
        paint(fresh);
      }
      if (fresh !== item || !target) { item.remove(); }
      say(data.message, false);
    }).catch(function () {
      item.removeAttribute("aria-busy");
      say(root.getAttribute("data-msg-error"), true);
    });
  }

  var dialog = root.querySelector("[data-cal-dialog]");

  function openMoveDialog(link) {
    var item = link.closest(".cal-item");
    var card = item ? item.querySelector("[data-move-url]") : null;
    var stamp = card ? card.querySelector("time[datetime]") : null;
    if (!dialog || !dialog.showModal || !stamp) { return false; }
    var form = dialog.querySelector("[data-cal-move-form]");
    var moment = stamp.getAttribute("datetime");  // the card's local time, e.g. 2030-03-12T10:30:00+01:00
    form.setAttribute("action", card.getAttribute("data-move-url"));
    form.elements.version.value = card.getAttribute("data-version") || "";
    form.elements.date.value = moment.slice(0, 10);
    form.elements.time.value = moment.slice(11, 16);
    // Back at the card after the move: the next Tab goes on from it, not from the top of the page.
    form.elements.next.value = window.location.pathname + window.location.search + "#" + item.id;
    var title = card.querySelector(".cal-card-title");
    dialog.querySelector("[data-cal-move-title]").textContent = title ? "“" + title.textContent + "”" : "";
    dialog.opener = link;
    dialog.showModal();
    form.elements.date.focus();
    return true;
  }

  root.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-cal-move]") : null;
    if (link && openMoveDialog(link)) { event.preventDefault(); }
    if (event.target.closest && event.target.closest("[data-cal-move-cancel]")) { dialog.close(); }
  });

  if (dialog) {
    dialog.addEventListener("close", function () {
      if (dialog.opener && dialog.opener.isConnected) { dialog.opener.focus(); }
    });
  }

  root.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("[data-move-url]") : null;
    if (!card) { return; }
    dragged = card.closest(".cal-item");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.getAttribute("data-post-id"));
    dragged.classList.add("cal-dragging");
  });

  root.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("cal-dragging"); }
    dragged = null;
    clearOver();
  });

  root.addEventListener("dragover", function (event) {
    var cell = dayOf(event.target);
    if (!dragged || !cell) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("cal-drop-over")) {
      clearOver();
      cell.classList.add("cal-drop-over");
    }
  });

  root.addEventListener("drop", function (event) {
    var cell = dayOf(event.target);
    var item = dragged;
    if (!item || !cell) { return; }
    event.preventDefault();
    clearOver();
    if (dayOf(item) === cell) { return; }
    move(item, cell);
  });

  paint(root);
})();
