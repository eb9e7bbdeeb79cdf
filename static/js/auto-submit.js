/* Submit a form marked data-auto-submit once the page loads (the portal's one-click sign-in:
   a GET only shows the page, the POST signs in; the button is there without scripts). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (form) form.submit();
})();
