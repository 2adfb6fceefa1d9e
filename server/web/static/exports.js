/* "Prepare in the background": send the export form's filters, format and language to the job
   form as one query string (the job form carries the CSRF token; the download form is a GET and
   must not put the token in a URL). */
(function () {
  "use strict";
  var exportForm = document.getElementById("export-form");
  var jobForm = document.getElementById("job-form");
  if (!exportForm || !jobForm) { return; }
  jobForm.addEventListener("submit", function () {
    var data = new FormData(exportForm);
    var query = new URLSearchParams();
    data.forEach(function (value, key) {
      if (key === "format" || key === "lang") {
        var field = document.createElement("input");
        field.type = "hidden"; field.name = key; field.value = value;
        jobForm.appendChild(field);
      } else if (value !== "") {
        query.append(key, value);
      }
    });
    var q = document.createElement("input");
    q.type = "hidden"; q.name = "query"; q.value = query.toString();
    jobForm.appendChild(q);
  });
})();
