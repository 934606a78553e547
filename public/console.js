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

// Sub-accounts (console/pages/sub-accounts.ts): the managed-companies selector. Without this
// file its Save goes through a server-rendered confirmation; with it, closing the selector after
// a change asks for confirmation (nothing is saved before), and cancelling puts the boxes back.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('form.companies-form').forEach(function (form) {
    var details = form.querySelector('details.multi-select');
    var chosen = form.querySelector('.chosen');
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=companies]'));
    if (!details || !boxes.length) return;
    var initial = boxes.map(function (b) { return b.checked; });
    var names = function () { return boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.getAttribute('data-name'); }); };
    var show = function () { var n = names(); chosen.textContent = n.length ? n.join(', ') : chosen.getAttribute('data-none'); };
    var changed = function () { return boxes.some(function (b, i) { return b.checked !== initial[i]; }); };
    boxes.forEach(function (b) { b.addEventListener('change', show); });
    // Like any drop-down: a click elsewhere closes it (and so asks, when something changed).
    document.addEventListener('click', function (e) {
      if (details.open && !details.contains(e.target)) details.open = false;
    });
    details.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && details.open) { details.open = false; details.querySelector('summary').focus(); }
    });
    details.addEventListener('toggle', function () {
      if (details.open || !changed()) return;
      var list = names();
      if (window.confirm(form.getAttribute('data-confirm') + '\n' + (list.length ? list.join(', ') : chosen.getAttribute('data-none')))) {
        var c = document.createElement('input');
        c.type = 'hidden'; c.name = 'confirm'; c.value = 'yes';
        form.appendChild(c);
        form.submit();
      } else {
        boxes.forEach(function (b, i) { b.checked = initial[i]; });
        show();
      }
    });
  });
});
