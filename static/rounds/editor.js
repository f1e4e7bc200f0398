// Rounds post editor: live character counters, findings refresh, upload sizes, preview toggle.
// Works on top of a form that is complete without it: the server renders findings on load and save.
(function () {
  "use strict";

  var form = document.querySelector("form[data-editor]");
  if (!form) { return; }
  var box = document.getElementById("editor-findings");
  var rulesNode = document.getElementById("editor-rules");
  var rules = rulesNode ? JSON.parse(rulesNode.textContent) : { platforms: {}, x_counting: null };
  var findingsUrl = form.getAttribute("data-findings-url");
  var toggle = document.querySelector("[data-preview-toggle]");
  var previewOpen = false;
  var timer = null;
  var sequence = 0;
  var described = {}; // upload slot -> {format, size, width, height} of a chosen, unsent file
  var DELAY = 400;

  // Text as the platforms count it (mirrors posts/platforms.py) --------------------------------

  var SEPARATORS = /[\s,;#\uff03]+/u;
  var URL_PATTERN = /(?<![\w.@])(?:https?:\/\/|www\.)[^\s<>"]+/giu;
  var URL_TRAILING = /[.,;:!?'")\]}]+$/u;

  function normaliseTags(raw) {
    var seen = {};
    var tags = [];
    raw.normalize("NFC").split(SEPARATORS).forEach(function (token) {
      var key = token.toLowerCase();
      if (token && !seen[key]) { seen[key] = true; tags.push(token); }
    });
    return tags;
  }

  function platformRules(platform) { return rules.platforms[platform] || {}; }

  function compose(body, link, tags, platform) {
    var parts = [body.trim()];
    if (link && platformRules(platform).links_clickable) { parts.push(link); }
    if (tags.length) { parts.push(tags.map(function (tag) { return "#" + tag; }).join(" ")); }
    return parts.filter(function (part) { return part; }).join("\n\n");
  }

  function isLight(codePoint) {
    var ranges = rules.x_counting ? rules.x_counting.light_ranges : [];
    for (var i = 0; i < ranges.length; i++) {
      if (codePoint >= ranges[i][0] && codePoint <= ranges[i][1]) { return true; }
    }
    return false;
  }

  function isEmojiBase(cp) {
    return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2300 && cp <= 0x27BF) || (cp >= 0x2B00 && cp <= 0x2BFF);
  }

  function isEmojiModifier(cp) {
    return cp === 0xFE0E || cp === 0xFE0F || cp === 0x20E3 || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
      (cp >= 0xE0020 && cp <= 0xE007F);
  }

  function xWeight(text) {
    var counting = rules.x_counting || { light_weight: 1, default_weight: 2 };
    var total = 0;
    var inEmoji = false;
    var afterZwj = false;
    var pendingFlag = false;
    Array.from(text).forEach(function (char) {
      var cp = char.codePointAt(0);
      if (inEmoji && isEmojiModifier(cp)) { return; }
      if (inEmoji && cp === 0x200D) { afterZwj = true; return; }
      if (afterZwj) { afterZwj = false; return; }
      if (cp >= 0x1F1E6 && cp <= 0x1F1FF) {
        if (pendingFlag) { pendingFlag = false; return; }
        pendingFlag = true;
      } else {
        pendingFlag = false;
      }
      inEmoji = isEmojiBase(cp);
      total += isLight(cp) ? counting.light_weight : counting.default_weight;
    });
    return total;
  }

  function xLength(text) {
    var urlLength = rules.x_counting ? rules.x_counting.url_length : 23;
    var total = 0;
    var position = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var url = match[0].replace(URL_TRAILING, "");
      total += xWeight(text.slice(position, match.index)) + urlLength;
      position = match.index + url.length;
    }
    return total + xWeight(text.slice(position));
  }

  function textLength(text, platform) {
    text = text.normalize("NFC");
    switch (platformRules(platform).counting) {
      case "x_weighted": return xLength(text);
      case "utf16_units": return text.length;
      case "utf8_bytes": return new TextEncoder().encode(text).length;
      default: return Array.from(text).length;
    }
  }

  // The page ---------------------------------------------------------------------------------

  function fieldValue(name) {
    var field = form.elements.namedItem(name);
    return field && typeof field.value === "string" ? field.value : "";
  }

  function updateCounters() {
    var body = fieldValue("body");
    var link = fieldValue("link").trim();
    if (!/^https?:\/\/\S+$/i.test(link)) { link = ""; }
    var tags = normaliseTags(fieldValue("hashtags"));
    box.querySelectorAll("[data-counter]").forEach(function (node) {
      var account = node.getAttribute("data-account");
      var platform = node.getAttribute("data-platform");
      var override = fieldValue("override_" + account).trim();
      var count = textLength(compose(override || body, link, tags, platform), platform);
      var limit = platformRules(platform).text_limit;
      var counter = node.querySelector("[data-count]");
      if (counter) { counter.textContent = String(count); }
      node.classList.toggle("over", limit !== null && limit !== undefined && count > limit);
    });
  }

  function updateTargets() {
    form.querySelectorAll("[data-target]").forEach(function (row) {
      var checkbox = row.querySelector("input[name=targets]");
      var override = row.querySelector("[data-target-override]");
      if (checkbox && override) { override.hidden = !checkbox.checked; }
    });
  }

  function applyPreview() {
    box.querySelectorAll("[data-preview-section]").forEach(function (section) { section.hidden = !previewOpen; });
    if (toggle) { toggle.setAttribute("aria-pressed", previewOpen ? "true" : "false"); }
  }

  // A keyboard user reading the previews (a link card) keeps their place when the findings are
  // redrawn: the focus goes to the control at the same place in the new findings, else to the box.
  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

  function keepFocus() {
    var active = document.activeElement;
    if (!active || active === box || !box.contains(active)) { return function () {}; }
    var index = Array.prototype.indexOf.call(box.querySelectorAll(FOCUSABLE), active);
    return function () {
      var again = box.querySelectorAll(FOCUSABLE)[index];
      if (!again || again.closest("[hidden]")) {
        box.setAttribute("tabindex", "-1");
        again = box;
      }
      again.focus();
    };
  }

  function refresh() {
    var data = new FormData(form);
    Array.from(data.keys()).forEach(function (key) {
      if (data.getAll(key).some(function (value) { return value instanceof File; })) { data.delete(key); }
    });
    Object.keys(described).forEach(function (slot) {
      var info = described[slot];
      data.append("new_media_" + slot + "_format", info.format);
      data.append("new_media_" + slot + "_size", String(info.size));
      data.append("new_media_" + slot + "_width", String(info.width));
      data.append("new_media_" + slot + "_height", String(info.height));
    });
    var mine = ++sequence;
    box.setAttribute("aria-busy", "true");
    fetch(findingsUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        // A redirect means the session ended (login page): keep the last findings rather than show it.
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (mine !== sequence) { return; }
        var focused = keepFocus();
        box.innerHTML = html;
        box.removeAttribute("data-stale");
        applyPreview();
        updateCounters();
        focused();
      })
      .catch(function () {
        if (mine === sequence) { box.setAttribute("data-stale", "true"); }
      })
      .finally(function () {
        if (mine === sequence) { box.removeAttribute("aria-busy"); }
      });
  }

  function refreshSoon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY);
  }

  function describeUpload(input) {
    var slot = input.name.replace("new_file_", "");
    var file = input.files && input.files[0];
    delete described[slot];
    if (!file) { refreshSoon(); return; }
    var info = { format: file.type, size: file.size, width: 0, height: 0 };
    described[slot] = info;
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.addEventListener("load", function () {
      info.width = image.naturalWidth;
      info.height = image.naturalHeight;
      URL.revokeObjectURL(url);
      refreshSoon();
    });
    image.addEventListener("error", function () { URL.revokeObjectURL(url); refreshSoon(); });
    image.src = url;
  }

  form.addEventListener("input", function (event) {
    if (event.target.type === "file") { return; }
    updateCounters();
    refreshSoon();
  });
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.name === "targets") { updateTargets(); }
    if (target.type === "file") { describeUpload(target); return; }
    refreshSoon();
  });
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      previewOpen = !previewOpen;
      applyPreview();
    });
  }

  // A background image check ended (media_checks.js): its findings are new.
  document.addEventListener("rounds:image-checked", refreshSoon);

  updateTargets();
  applyPreview();
  updateCounters();
})();
