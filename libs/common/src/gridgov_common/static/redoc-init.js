// Starts ReDoc on /redoc. A file rather than an inline script, so the page runs under script-src 'self'.
(function () {
  "use strict";
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, { hideDownloadButton: false, expandResponses: "" }, root);
})();
