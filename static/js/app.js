// Behaviour shared by every page. Pages carry a Content-Security-Policy without inline
// script, so every script lives in static files like this one.
(function () {
  "use strict";

  // <select data-autocomplete="URL">: a tom-select that asks the server as the user types.
  function initAutocomplete(root) {
    root.querySelectorAll("select[data-autocomplete]:not(.tomselected)").forEach(function (select) {
      const url = select.dataset.autocomplete;
      new TomSelect(select, {
        valueField: "id",
        labelField: "text",
        searchField: [],
        maxOptions: 20,
        loadThrottle: 250,
        shouldLoad: function (query) { return query.length >= 2; },
        load: function (query, callback) {
          fetch(url + (url.includes("?") ? "&" : "?") + "q=" + encodeURIComponent(query), {
            headers: { "Accept": "application/json" },
            credentials: "same-origin",
          })
            .then(function (response) { return response.json(); })
            .then(function (data) { callback(data.results); })
            .catch(function () { callback(); });
        },
      });
    });
    // Multiple choices (departments, tags, event types) as tags with a remove button.
    root.querySelectorAll("select[multiple]:not(.tomselected)").forEach(function (select) {
      new TomSelect(select, { plugins: ["remove_button"], maxOptions: null });
    });
  }

  // Small forms that apply as soon as a choice changes (currency, rows per page).
  document.addEventListener("change", function (event) {
    const form = event.target.closest("form[data-autosubmit]");
    if (form) { form.submit(); }
  });

  initAutocomplete(document);
  document.body.addEventListener("htmx:afterSettle", function (event) { initAutocomplete(event.target); });
})();
