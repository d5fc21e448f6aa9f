/* Live gallery: new photos announced on /events/ appear at the top. */
(function () {
  "use strict";
  var script = document.currentScript;
  var gallery = document.getElementById("gallery");
  if (!window.EventSource || !gallery || !script) { return; }
  var status = document.getElementById("live-status");
  var source = new EventSource(script.getAttribute("data-events"));

  function show(event) {
    var photo = JSON.parse(event.data);
    if (!photo.thumbnail || gallery.querySelector('li[data-id="' + photo.id + '"]')) { return; }
    var empty = document.getElementById("gallery-empty");
    if (empty) { empty.parentNode.removeChild(empty); }
    var item = document.createElement("li");
    item.className = "photo fresh";
    item.setAttribute("data-id", photo.id);
    var link = document.createElement("a");
    link.href = photo.url;
    var image = document.createElement("img");
    image.src = photo.thumbnail;
    image.width = image.height = 240;
    image.alt = photo.caption;
    var caption = document.createElement("span");
    caption.className = "caption";
    caption.textContent = photo.caption || ("Photo #" + photo.id);
    link.appendChild(image);
    link.appendChild(caption);
    item.appendChild(link);
    gallery.insertBefore(item, gallery.firstChild);
    var count = document.getElementById("photo-count");
    if (count) { count.textContent = String(Number(count.textContent) + 1); }
  }

  source.addEventListener("upload", show);
  source.addEventListener("import", show);
  source.onopen = function () { if (status) { status.hidden = false; } };
  source.onerror = function () { if (status) { status.hidden = true; } };
  window.addEventListener("pagehide", function () { source.close(); });
}());
