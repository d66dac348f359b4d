(function () {
  "use strict";
  // Filters of the review page: show findings of the chosen severities and rules. The page is complete
  // without this script; it only hides rows. The URL fragment can preset them: #severity=critical,high&rule=CAP001
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var boxes = Array.prototype.slice.call(bar.querySelectorAll("input[type=checkbox]"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.finding"));
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".svc"));
  var shown = document.getElementById("filter-count");
  function apply() {
    var on = {};
    boxes.forEach(function (box) { on[box.name + ":" + box.value] = box.checked; });
    var visible = 0;
    rows.forEach(function (row) {
      var show = on["severity:" + row.getAttribute("data-severity")] && on["rule:" + row.getAttribute("data-rule")];
      row.hidden = !show;
      if (show) { visible += 1; }
    });
    blocks.forEach(function (block) {
      var own = block.querySelectorAll("tr.finding");
      if (!own.length) { return; }
      block.hidden = !Array.prototype.some.call(own, function (row) { return !row.hidden; });
    });
    if (shown) { shown.textContent = visible + " of " + rows.length + " findings shown"; }
  }
  var preset = new URLSearchParams(window.location.hash.slice(1));
  ["severity", "rule"].forEach(function (name) {
    var wanted = preset.get(name);
    if (wanted === null) { return; }
    var keep = wanted.split(",");
    boxes.forEach(function (box) {
      if (box.name === name) { box.checked = keep.indexOf(box.value) >= 0; }
    });
  });
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  bar.hidden = false;
  apply();
}());
