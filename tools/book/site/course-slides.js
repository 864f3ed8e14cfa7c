/* The course's decks: start reveal.js, and make every slide fit the screen. A slide is fitted
   when it is shown: code, printed text, tables and equations wider than the slide are shrunk
   (to no less than MIN_PX slide pixels), then wrapped; a slide taller than the screen is zoomed
   out (to no less than MIN_ZOOM). The browser test (tests/test_book.py) checks that nothing is
   cut off at 1280x720 and 1920x1080 and that no text became smaller than MIN_PX. */
(function () {
  "use strict";
  var MIN_PX = 13;
  var MIN_ZOOM = 0.8;
  var WIDE = ".jp-InputArea-editor pre, .jp-OutputArea-output pre, .jp-OutputArea-output table, " +
             ".jp-RenderedHTMLCommon table, mjx-container[display]";

  // The parts of a slide (its cells), not the speaker notes: zoomed one by one, so that each
  // stays as wide as the slide while it shrinks.
  function parts(section) {
    return Array.prototype.filter.call(section.children, function (child) { return child.tagName !== "ASIDE"; });
  }

  function reset(section) {
    parts(section).forEach(function (part) { part.style.zoom = ""; });
    section.classList.remove("course-scroll");
    section.querySelectorAll("[data-course-fitted]").forEach(function (element) {
      element.style.fontSize = "";
      element.style.whiteSpace = element.getAttribute("data-course-white-space") || "";
      element.style.overflowWrap = "";
      element.removeAttribute("data-course-fitted");
    });
  }

  function overflow(element) {
    var box = element.tagName === "PRE" ? element : element.parentElement;
    return element.scrollWidth - box.clientWidth;
  }

  function fitWidth(element, zoom) {
    if (overflow(element) <= 1) return;
    var box = element.tagName === "PRE" ? element : element.parentElement;
    var size = parseFloat(getComputedStyle(element).fontSize);
    var wanted = size * (box.clientWidth - 2) / element.scrollWidth;
    element.setAttribute("data-course-fitted", "");
    element.style.fontSize = Math.max(wanted, MIN_PX / zoom) + "px";
    if (overflow(element) > 1 && element.tagName === "PRE") {
      element.setAttribute("data-course-white-space", element.style.whiteSpace);
      element.style.whiteSpace = "pre-wrap";
      element.style.overflowWrap = "anywhere";
    }
  }

  // The height of the slide's content, in slide pixels (whatever reveal.js's scale and the zoom).
  function contentHeight(section) {
    var scale = document.querySelector(".reveal .slides").getBoundingClientRect().width / Reveal.getConfig().width;
    var top = section.getBoundingClientRect().top, bottom = top;
    parts(section).forEach(function (part) { bottom = Math.max(bottom, part.getBoundingClientRect().bottom); });
    return (bottom - top) / scale;
  }

  function fit(section) {
    if (!section) return;
    reset(section);
    var height = Reveal.getConfig().height, zoom = 1;
    for (var attempt = 0; attempt < 4; attempt++) {
      section.querySelectorAll(WIDE).forEach(function (element) { fitWidth(element, zoom); });
      var needed = contentHeight(section);
      if (needed <= height || zoom <= MIN_ZOOM) break;
      zoom = Math.max(MIN_ZOOM, zoom * height / needed);
      parts(section).forEach(function (part) { part.style.zoom = zoom; });
    }
    if (contentHeight(section) > height + 1) section.classList.add("course-scroll");
  }

  function fitCurrent() { fit(Reveal.getCurrentSlide()); }

  Reveal.initialize(window.COURSE_REVEAL_CONFIG);
  Reveal.on("ready", fitCurrent);
  Reveal.on("slidechanged", fitCurrent);
  Reveal.on("resize", fitCurrent);
  if (window.MathJax && MathJax.startup) {
    MathJax.startup.promise.then(function () { Reveal.layout(); fitCurrent(); });
  }
})();
