// Progressive enhancement for the console (issue 11): every page works without this file; with
// it, a "select all" box for row checkboxes. Served from our origin (CSP script-src 'self').
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('input[data-select-all]').forEach(function (all) {
    var form = all.form;
    var boxes = function () { return form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute('data-select-all') + '"]'); };
    all.hidden = false;
    all.addEventListener('change', function () { boxes().forEach(function (b) { b.checked = all.checked; }); });
  });
});
