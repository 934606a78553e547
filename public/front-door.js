// Progressive enhancement of the front door's password forms (issue 11): ticking "Use this
// password" puts the suggested password (shown on the page) into the password field, so the
// browser's password manager can offer to save it; unticking empties the field again. Without this script
// the server honours the checkbox itself (front-door/router.ts chosenPassword).
(function () {
  var box = document.getElementById('use-suggestion');
  var field = document.getElementById('password');
  var suggested = document.getElementById('suggested');
  if (!box || !field || !suggested) return;
  box.addEventListener('change', function () {
    field.value = box.checked ? suggested.textContent.trim() : '';
  });
})();
