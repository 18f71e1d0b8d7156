/* Script of the ecgprep HTML gallery (ecgprep/viz/gallery.py reads it): the
   filter buttons, the score ordering and the data-loaded count of decoded
   thumbnails. Python fills in {gid} (the gallery's element id); this comment is
   left out of the page. */
(function () {
  var root = document.getElementById("{gid}");
  if (!root) return;
  var box = root.querySelector(".eg-cards");
  var cards = Array.prototype.slice.call(box.children);
  root.querySelectorAll("button[data-filter]").forEach(function (b) {
    b.addEventListener("click", function () {
      root.setAttribute("data-show", b.getAttribute("data-filter"));
      root.querySelectorAll("button[data-filter]").forEach(function (o) {
        o.classList.toggle("eg-on", o === b);
      });
    });
  });
  var sel = root.querySelector("select.eg-sort");
  if (sel) sel.addEventListener("change", function () {
    var key = function (c) {
      if (sel.value === "input") return Number(c.getAttribute("data-index"));
      var s = c.getAttribute("data-score");
      return s === "" ? (c.classList.contains("eg-failed") ? -1e9 : 1e9) : Number(s);
    };
    cards.slice().sort(function (a, b) { return key(a) - key(b); })
      .forEach(function (c) { box.appendChild(c); });
  });
  // data-loaded: how many thumbnails decoded (checked by the tests in a headless browser).
  var imgs = Array.prototype.slice.call(root.querySelectorAll("img"));
  var count = function () {
    var n = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    root.setAttribute("data-loaded", String(n));
  };
  imgs.forEach(function (i) {
    i.addEventListener("load", count);
    i.addEventListener("error", count);
  });
  if (document.readyState === "complete") count(); else window.addEventListener("load", count);
})();
