/* Keyboard shortcuts on a report page for reviewers: v verify, r reject, i ask for information,
   n next unreviewed. Ignored while typing in a field, so a comment can contain those letters. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT" || t.isContentEditable)) { return; }
    var key = event.key.toLowerCase();
    if (key === "n") {
      var next = document.getElementById("next-unreviewed");
      if (next) { event.preventDefault(); window.location.assign(next.href); }
      return;
    }
    var button = document.querySelector("#review-form button[data-key='" + key + "']");
    if (button) { event.preventDefault(); button.click(); }
  });
})();
