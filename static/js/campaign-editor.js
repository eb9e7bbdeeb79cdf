/* The campaign editor's small helpers: language tabs, placeholder chips, accounts per channel,
   and the live counter's request. Everything works without it; it only makes the form quicker. */
(function () {
  "use strict";

  var form = document.getElementById("campaign-form");
  if (!form) return;

  /* --- language tabs (WAI-ARIA tabs: arrows, Home, End) ----------------------------------- */
  var tablist = form.querySelector("[data-tabs]");
  var tabs = tablist ? Array.prototype.slice.call(tablist.querySelectorAll('[role="tab"]')) : [];

  function select(tab, focus) {
    tabs.forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    });
    if (focus) tab.focus();
  }

  if (tabs.length) {
    tablist.classList.remove("hidden-until-js");
    form.querySelectorAll("[data-no-js-heading]").forEach(function (h) { h.hidden = true; });
    var current = tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0] || tabs[0];
    select(current, false);
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { select(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
        if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
        if (event.key === "Home") next = tabs[0];
        if (event.key === "End") next = tabs[tabs.length - 1];
        if (next) { event.preventDefault(); select(next, true); }
      });
    });
  }

  /* --- placeholder chips: insert at the cursor of the last box used ------------------------- */
  var lastBox = null;
  form.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-placeholders")) lastBox = event.target;
  });

  function activeBox() {
    var panel = form.querySelector('[role="tabpanel"]:not([hidden])');
    if (lastBox && (!panel || panel.contains(lastBox))) return lastBox;
    return panel ? panel.querySelector("[data-placeholder-default]") : null;
  }

  form.querySelectorAll("[data-insert]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var box = activeBox();
      if (!box) return;
      var word = chip.getAttribute("data-insert");
      var start = box.selectionStart == null ? box.value.length : box.selectionStart;
      var end = box.selectionEnd == null ? start : box.selectionEnd;
      var before = box.value.slice(0, start);
      // A keyword must stand apart from the word before it ("Dear @NAME", not "Dear@NAME").
      var spacer = before && !/[\s(["'>]$/.test(before) ? " " : "";
      box.setRangeText(spacer + word, start, end, "end");
      box.focus();
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  /* --- delivery plan: offer only the accounts of the chosen channel ------------------------- */
  function planChannel() {
    var channels = Array.prototype.map.call(form.querySelectorAll("[data-step-channel]"), function (s) { return s.value; })
      .filter(Boolean);
    if (channels.indexOf("sms") !== -1) return "sms";
    return channels[0] || "sms";
  }

  // The account of the plan's step the counter measures (planChannel; "" for the default
  // one): its opt-out hint is counted.
  function planAccount() {
    var channel = planChannel();
    var step = Array.prototype.filter.call(form.querySelectorAll("[data-step-channel]"), function (s) {
      return s.value === channel;
    })[0];
    var row = step && step.closest("[data-step]");
    var account = row && row.querySelector("[data-step-account]");
    return account ? account.value : "";
  }

  function limitAccounts(channelSelect) {
    var row = channelSelect.closest("[data-step]");
    var accounts = row && row.querySelector("[data-step-account]");
    if (!accounts) return;
    Array.prototype.forEach.call(accounts.options, function (option) {
      var own = option.getAttribute("data-channel");
      var fits = !own || own === channelSelect.value;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) accounts.value = "";
    });
    accounts.disabled = !channelSelect.value;
  }

  function refreshMeters() {
    form.querySelectorAll("[data-meter-for]").forEach(function (meter) {
      if (window.htmx && meter.innerHTML.trim()) window.htmx.trigger(meter, "meter-refresh");
    });
  }

  form.querySelectorAll("[data-step-channel]").forEach(function (select) {
    limitAccounts(select);
    select.addEventListener("change", function () {
      limitAccounts(select);
      refreshMeters();
    });
  });
  // A marketing SMS is counted with its opt-out hint, which is the account's or the language's.
  form.querySelectorAll("[data-step-account]").forEach(function (select) {
    select.addEventListener("change", refreshMeters);
  });
  var purposeSelect = form.querySelector('[name="purpose"]');
  if (purposeSelect) purposeSelect.addEventListener("change", refreshMeters);
  // Shortened SMS links are counted at their short length: the counters follow the box.
  var shorten = form.querySelector('[name="shorten_links"]');
  if (shorten) shorten.addEventListener("change", refreshMeters);
  // A disabled select posts nothing: enable them again just before the form goes.
  form.addEventListener("submit", function () {
    form.querySelectorAll("[data-step-account]").forEach(function (s) { s.disabled = false; });
  });

  /* --- a new marketing campaign asks for consent and leaves the greylist out ---------------- */
  var purpose = form.querySelector('[name="purpose"]');
  if (purpose && form.hasAttribute("data-new-campaign")) {
    var touched = {};
    ["require_channel_consent", "exclude_greylisted"].forEach(function (name) {
      var box = form.querySelector('[name="' + name + '"]');
      if (box) box.addEventListener("change", function () { touched[name] = true; });
    });
    purpose.addEventListener("change", function () {
      if (purpose.value !== "marketing") return;
      ["require_channel_consent", "exclude_greylisted"].forEach(function (name) {
        var box = form.querySelector('[name="' + name + '"]');
        if (box && !touched[name]) box.checked = true;
      });
    });
  }

  /* --- the live counter: post the box's own text under the name the counter reads ----------- */
  document.body.addEventListener("htmx:configRequest", function (event) {
    var meter = event.detail.elt;
    var source = meter.getAttribute && meter.getAttribute("data-meter-for");
    if (!source) return;
    var box = document.getElementById(source);
    event.detail.parameters.text = box ? box.value : "";
    event.detail.parameters.channel = planChannel();
    var shortened = form.querySelector('[name="shorten_links"]');
    if (shortened && shortened.checked) event.detail.parameters.shorten_links = "on";
    var purposeField = form.querySelector('[name="purpose"]');
    if (purposeField) event.detail.parameters.purpose = purposeField.value;
    event.detail.parameters.language = meter.getAttribute("data-meter-language") || "";
    event.detail.parameters.account = planAccount();
  });
  // The shared counter fragment carries a fixed id; one page holds one per language.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.hasAttribute("data-meter-for")) {
      event.detail.target.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
    }
  });
})();
