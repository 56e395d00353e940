/* tcdb report: every table.data gets a filter box and sortable column headers, and every
   div.plot is drawn with plotly.min.js (beside the pages) once it scrolls into view, so the
   text and tables show before the library is parsed. Plain JavaScript, no CDN: the site works
   offline and from file://. */
(function () {
  "use strict";

  function cellValue(row, column) {
    var cell = row.cells[column];
    if (!cell) return "";
    return cell.getAttribute("data-value") || cell.textContent.trim();
  }

  function asNumber(text) {
    if (text === "") return NaN;
    var cleaned = text.replace(/,/g, "").replace(/\u2212/g, "-");
    return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cleaned) ? parseFloat(cleaned) : NaN;
  }

  function compare(a, b) {
    var x = asNumber(a), y = asNumber(b);
    if (!isNaN(x) && !isNaN(y)) return x - y;
    if (a === "" && b !== "") return 1;   /* empty cells last */
    if (b === "" && a !== "") return -1;
    return a.localeCompare(b, undefined, { numeric: true });
  }

  function sortBy(table, header, column) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var order = compare(cellValue(r, column), cellValue(s, column));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function filter(table, text, counter) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = table.tBodies[0].rows, shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var content = row.textContent.toLowerCase();
      var keep = words.every(function (w) { return content.indexOf(w) !== -1; });
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    counter.textContent = shown + " of " + rows.length + " rows";
  }

  function enhance(table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.classList.add("sortable");
      th.title = "sort by " + th.textContent.trim();
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th, column); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter") sortBy(table, th, column);
      });
    });
    var bar = document.createElement("div");
    bar.className = "table-tools";
    var box = document.createElement("input");
    box.type = "search";
    box.placeholder = "filter rows";
    box.setAttribute("aria-label", "filter the rows of this table");
    var counter = document.createElement("span");
    counter.className = "row-count";
    counter.textContent = table.tBodies[0].rows.length + " rows";
    box.addEventListener("input", function () { filter(table, box.value, counter); });
    bar.appendChild(box);
    bar.appendChild(counter);
    table.parentNode.insertBefore(bar, table);
  }

  var plotly = null;

  function loadPlotly() {
    if (!plotly) {
      plotly = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = "plotly.min.js";
        script.onload = resolve;
        script.onerror = function () { reject(new Error("plotly.min.js did not load")); };
        document.head.appendChild(script);
      });
    }
    return plotly;
  }

  function draw(div) {
    if (div.getAttribute("data-drawn")) return;
    div.setAttribute("data-drawn", "pending");
    loadPlotly().then(function () {
      var spec = JSON.parse(document.getElementById(div.getAttribute("data-plot")).textContent);
      return window.Plotly.newPlot(div, spec.data, spec.layout,
                                   { displaylogo: false, responsive: true });
    }).then(function () {
      div.setAttribute("data-drawn", "yes");
    });
  }

  function drawWhenSeen() {
    var plots = Array.prototype.slice.call(document.querySelectorAll("div.plot[data-plot]"));
    if (!plots.length) return;
    loadPlotly();  /* parse the library now, so a plot scrolled to later draws at once */
    if (!("IntersectionObserver" in window)) { plots.forEach(draw); return; }
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { seen.unobserve(entry.target); draw(entry.target); }
      });
    }, { rootMargin: "300px" });
    plots.forEach(function (div) { seen.observe(div); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.data"), enhance);
  });
  window.addEventListener("load", drawWhenSeen);
})();
