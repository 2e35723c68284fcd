// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function bind(root) {
    // Language switcher: submit on change (the button stays for keyboard and no-JS users).
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // Copy buttons: <button data-copy="text">.
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.bound) return;
      button.dataset.bound = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-copy");
        var done = function () {
          var original = button.textContent;
          button.textContent = button.getAttribute("data-copied") || "✓";
          setTimeout(function () { button.textContent = original; }, 1500);
        };
        if (navigator.clipboard) navigator.clipboard.writeText(text).then(done);
      });
    });
    // Confirmation prompts for destructive buttons: <button data-confirm="...">.
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      if (el.dataset.confirmBound) return;
      el.dataset.confirmBound = "1";
      el.addEventListener("click", function (event) {
        if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // --- Errors of htmx requests ---------------------------------------------------------------
  // An invalid form (422) and a refused action (409) come back as HTML that htmx swaps in place
  // (base.html, htmx-config). Any other 4xx/5xx, and no answer at all, is shown here: the
  // server's own message if the answer carries one, else a generic text that the server
  // translated into <body data-error-generic / data-error-network>.
  function serverMessage(xhr) {
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    if (!xhr || !xhr.responseText || type.indexOf("text/html") !== 0) return "";
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var nodes = doc.querySelectorAll("[data-error-message]");
    if (!nodes.length) nodes = doc.querySelectorAll(".messages .message");
    return Array.prototype.map.call(nodes, function (node) {
      return node.textContent.trim();
    }).filter(Boolean).join(" ");
  }

  function showError(text) {
    var region = document.getElementById("htmx-error");
    if (!region) return;
    var line = document.createElement("p");
    line.className = "message error";
    line.textContent = text;
    region.replaceChildren(line);
    region.hidden = false;
    region.scrollIntoView({ block: "nearest" });
  }

  function hideError() {
    var region = document.getElementById("htmx-error");
    if (region && !region.hidden) {
      region.hidden = true;
      region.replaceChildren();
    }
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(serverMessage(event.detail.xhr) || document.body.dataset.errorGeneric);
  });
  document.addEventListener("htmx:sendError", function () {
    showError(document.body.dataset.errorNetwork);
  });
  // A new action by the person replaces an old error message (polling does not).
  document.addEventListener("submit", hideError, true);

  // --- Form errors: keep what may be kept, focus the first error -----------------------------
  // A passphrase is never sent back by the server; with JavaScript the browser keeps what was
  // typed across the swap of a re-rendered form (inputs marked data-keep-typed), unless the
  // passphrase itself is in error.
  var kept = {};
  document.addEventListener("htmx:beforeSwap", function (event) {
    kept = {};
    var target = event.detail.target;
    if (!target || !target.querySelectorAll) return;
    target.querySelectorAll("input[data-keep-typed]").forEach(function (input) {
      if (input.value) kept[input.name] = input.value;
    });
  });

  function restoreKept(root) {
    root.querySelectorAll("input[data-keep-typed]").forEach(function (input) {
      var value = kept[input.name];
      if (value && !input.value && input.getAttribute("aria-invalid") !== "true") {
        input.value = value;
      }
    });
    kept = {};
  }

  function focusFirstError(root) {
    var summary = root.matches("[data-error-summary]") ? root : root.querySelector("[data-error-summary]");
    if (!summary) return;
    var form = summary.closest("form") || root;
    var field = form.querySelector("[aria-invalid=true]");
    (field || summary).focus();
  }

  function afterSettle(event) {
    var root = event.target;
    if (!root || !root.querySelectorAll) return;
    restoreKept(root);
    focusFirstError(root);
    bind(root);
  }

  onReady(function () { bind(document); });
  document.addEventListener("htmx:afterSettle", afterSettle);
})();
