// Rounds review comments: select a passage of the post's text, then "Comment on this passage".
// The form works without it (the passage is typed or pasted); this only fills it from a selection.
// Offsets count code points of the text as shown (what approvals/anchors.py counts), not UTF-16 units.
(function () {
  "use strict";

  var form = document.querySelector("form[data-comment-form]");
  var button = document.querySelector("[data-comment-selection]");
  if (!form || !button) { return; }
  var anchorField = form.querySelector("[data-comment-anchor]");
  var quoteField = form.querySelector("[data-comment-quote]");
  var startField = form.querySelector("[data-comment-start]");
  var textField = form.querySelector("[data-comment-text]");
  var pending = null; // {anchor, quote, start} of the current selection

  function sourceOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest("[data-comment-source]") : null;
  }

  function codePoints(text) { return Array.from(text).length; }

  function readSelection() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return null; }
    var range = selection.getRangeAt(0);
    var source = sourceOf(range.startContainer);
    if (!source || source !== sourceOf(range.endContainer)) { return null; }
    var quote = range.toString();
    if (!quote.trim()) { return null; }
    var before = document.createRange();
    before.selectNodeContents(source);
    before.setEnd(range.startContainer, range.startOffset);
    return { anchor: source.getAttribute("data-comment-source"), quote: quote, start: codePoints(before.toString()) };
  }

  document.addEventListener("selectionchange", function () {
    var found = readSelection();
    if (found) {
      pending = found;
      button.hidden = false;
    }
  });

  // Keep the selection when the button is pressed (a mousedown would otherwise clear it first).
  button.addEventListener("mousedown", function (event) { event.preventDefault(); });

  button.addEventListener("click", function () {
    var found = readSelection() || pending;
    if (!found) { return; }
    anchorField.value = found.anchor;
    quoteField.value = found.quote;
    startField.value = String(found.start);
    button.hidden = true;
    textField.focus();
  });

  // A passage typed or changed by hand has no offset of its own: the server finds it.
  quoteField.addEventListener("input", function () { startField.value = ""; });
  anchorField.addEventListener("change", function () { startField.value = ""; });
})();
