// c2m pages: the ranking reorders in place (drag, or the Up/Down buttons by keyboard), and a
// form's submit button is disabled once pressed. Everything works without this file.
(function () {
  "use strict";
  function moveItem(li, direction) {
    var list = li.parentNode;
    if (direction === "up" && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
    } else if (direction === "down" && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
    }
  }
  function setupRanking(list) {
    var dragged = null;
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button.move");
      if (!button) { return; }
      event.preventDefault();
      var parts = button.value.split(":");
      var li = button.closest("li");
      moveItem(li, parts[0]);
      button.focus();
    });
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li");
      if (dragged) { dragged.classList.add("dragging"); event.dataTransfer.effectAllowed = "move"; event.dataTransfer.setData("text/plain", dragged.dataset.id); }
    });
    list.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("dragging"); }
      dragged = null;
    });
    list.addEventListener("dragover", function (event) {
      event.preventDefault();
      var over = event.target.closest("li");
      if (!dragged || !over || over === dragged) { return; }
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (event) { event.preventDefault(); });
  }
  function setup(root) {
    root.querySelectorAll("ol.ranking").forEach(setupRanking);
  }
  document.addEventListener("DOMContentLoaded", function () {
    setup(document);
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.classList.contains("pledge")) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
      }
    });
  });
})();
