// The characters left under a letter's text box, kept up to date as the writer types.
// Without this script the page still says the limit and the count when it was sent, and
// the server checks the length either way. The phrases come from the page (data-left-one,
// data-over-few, … one per plural category of its language), the numbers from Intl.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  var numbers = window.Intl && Intl.NumberFormat ? new Intl.NumberFormat(lang) : null;

  function phrase(counter, kind, count) {
    var category = plurals ? plurals.select(count) : (count === 1 ? "one" : "other");
    var template = counter.getAttribute("data-" + kind + "-" + category) ||
      counter.getAttribute("data-" + kind + "-other") || "{n}";
    return template.replace("{n}", numbers ? numbers.format(count) : String(count));
  }

  // As the server counts: characters (not UTF-16 units), one per line end, ends trimmed.
  function length(text) {
    return Array.from(text.replace(/\r\n?/g, "\n").trim()).length;
  }

  var counters = document.querySelectorAll("[data-count-for]");
  Array.prototype.forEach.call(counters, function (counter) {
    var box = document.getElementById(counter.getAttribute("data-count-for"));
    var live = document.getElementById(counter.getAttribute("data-live"));
    var limit = parseInt(counter.getAttribute("data-max"), 10);
    var timer = null;
    if (!box || !limit) {
      return;
    }
    function update(announce) {
      var left = limit - length(box.value);
      var text = left >= 0 ? phrase(counter, "left", left) : phrase(counter, "over", -left);
      counter.textContent = text;
      counter.classList.toggle("over", left < 0);
      if (live && announce) {
        // Screen readers hear the count once typing pauses, not at every key.
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { live.textContent = text; }, 1000);
      }
    }
    box.addEventListener("input", function () { update(true); });
    update(false);  // a text the browser restored when going back
  });
}());
