/* The book's search (search.html): the index is window.COURSE_SEARCH_INDEX, loaded by a
   <script> tag (search-index.js), so it works from file://. An entry matches when every word
   of the query occurs in its title or text; title matches rank first. */
(function () {
  "use strict";

  function words(query) {
    return query.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function count(haystack, needle) {
    var found = 0, at = haystack.indexOf(needle);
    while (at >= 0 && found < 50) { found++; at = haystack.indexOf(needle, at + needle.length); }
    return found;
  }

  function search(index, query) {
    var terms = words(query);
    if (!terms.length) return [];
    var results = [];
    index.forEach(function (entry) {
      var title = entry.title.toLowerCase(), text = entry.text.toLowerCase(), score = 0;
      for (var i = 0; i < terms.length; i++) {
        var inTitle = count(title, terms[i]), inText = count(text, terms[i]);
        if (!inTitle && !inText) return;
        score += 10 * inTitle + Math.min(inText, 10);
      }
      results.push({entry: entry, score: score});
    });
    results.sort(function (a, b) { return b.score - a.score; });
    return results;
  }

  function snippet(text, terms) {
    var lower = text.toLowerCase(), at = -1;
    for (var i = 0; i < terms.length && at < 0; i++) at = lower.indexOf(terms[i]);
    var start = Math.max(0, at - 80), end = Math.min(text.length, Math.max(at, 0) + 160);
    return (start > 0 ? "… " : "") + text.slice(start, end) + (end < text.length ? " …" : "");
  }

  function highlighted(element, text, terms) {
    var pattern = new RegExp("(" + terms.map(function (t) {
      return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|") + ")", "gi");
    text.split(pattern).forEach(function (part, i) {
      var node = i % 2 ? document.createElement("mark") : document.createTextNode(part);
      if (i % 2) node.textContent = part;
      element.appendChild(node);
    });
  }

  function show(query) {
    var list = document.getElementById("course-search-results");
    var status = document.getElementById("course-search-status");
    var index = window.COURSE_SEARCH_INDEX || [];
    var terms = words(query), results = search(index, query);
    list.textContent = "";
    if (!terms.length) { status.textContent = index.length + " sections of notebooks, labs and claims."; return; }
    status.textContent = results.length + (results.length === 1 ? " result" : " results") + " for “" + query + "”";
    results.slice(0, 100).forEach(function (result) {
      var item = document.createElement("li"), link = document.createElement("a");
      var kind = document.createElement("span"), text = document.createElement("div");
      item.className = "course-result course-result-" + result.entry.kind;
      kind.className = "course-result-kind";
      kind.textContent = result.entry.kind;
      link.href = result.entry.url;
      highlighted(link, result.entry.title, terms);
      text.className = "course-result-text";
      highlighted(text, snippet(result.entry.text, terms), terms);
      item.appendChild(kind);
      item.appendChild(link);
      item.appendChild(text);
      list.appendChild(item);
    });
  }

  window.courseSearch = search;
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("course-search-input");
    if (!input) return;
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    show(query);
    input.addEventListener("input", function () { show(input.value); });
  });
})();
