// Behaviour shared by every page. Pages carry a Content-Security-Policy without inline
// script, so every script lives in static files like this one.
(function () {
  "use strict";

  // tom-select hides the original <select> only visually and moves its <label> to its own combobox:
  // the original would stay in the accessibility tree as a second, nameless field. Hide it there, and
  // give the combobox what the original said about errors and help.
  function linkToCombobox(select, tom) {
    const combobox = tom.focus_node || tom.control_input;
    select.setAttribute("aria-hidden", "true");
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (select.hasAttribute(name)) { combobox.setAttribute(name, select.getAttribute(name)); }
    });
    if (select.classList.contains("is-invalid")) { combobox.setAttribute("aria-invalid", "true"); }
  }

  // <select data-autocomplete="URL">: a tom-select that asks the server as the user types.
  function initAutocomplete(root) {
    root.querySelectorAll("select[data-autocomplete]:not(.tomselected)").forEach(function (select) {
      const url = select.dataset.autocomplete;
      linkToCombobox(select, new TomSelect(select, {
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
      }));
    });
    // Multiple choices (departments, tags, event types) as tags with a remove button.
    root.querySelectorAll("select[multiple]:not(.tomselected)").forEach(function (select) {
      linkToCombobox(select, new TomSelect(select, { plugins: ["remove_button"], maxOptions: null }));
    });
  }

  // Icons are decoration next to their text: screen readers should not spell out the glyph.
  function hideIcons(root) {
    root.querySelectorAll("i.bi:not([aria-hidden])").forEach(function (icon) { icon.setAttribute("aria-hidden", "true"); });
  }

  // Small forms that apply as soon as a choice changes (currency, rows per page). The arrow keys change a
  // closed select one step at a time: a choice made with the keyboard applies on Enter or when the field is
  // left, so that moving through the choices does not reload the page at each step (WCAG 3.2.2).
  let keyedSelect = null;
  document.addEventListener("keydown", function (event) {
    const select = event.target.closest && event.target.closest("form[data-autosubmit] select");
    if (!select) { return; }
    if (event.key === "Enter" && select.dataset.pending) {
      event.preventDefault();
      select.form.submit();
    } else if (event.key !== "Tab" && event.key !== "Shift") {
      keyedSelect = select;
    }
  });
  document.addEventListener("change", function (event) {
    const form = event.target.closest("form[data-autosubmit]");
    if (!form) { return; }
    if (event.target === keyedSelect) {
      event.target.dataset.pending = "1";
    } else {
      form.submit();
    }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.dataset && event.target.dataset.pending) { event.target.form.submit(); }
    if (event.target === keyedSelect) { keyedSelect = null; }
  });
  document.addEventListener("pointerdown", function () { keyedSelect = null; });

  hideIcons(document);
  initAutocomplete(document);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    hideIcons(event.target);
    initAutocomplete(event.target);
  });

  // A form sent back with errors: the keyboard starts at the first field in error.
  const invalid = document.querySelector([
    "#main form input.is-invalid", "#main form textarea.is-invalid", "#main form select.is-invalid:not(.tomselected)",
    "#main form .ts-wrapper.is-invalid [role=combobox]",
  ].join(", "));
  if (invalid) { invalid.focus(); }
})();
