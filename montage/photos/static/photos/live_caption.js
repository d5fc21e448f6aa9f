/* Live caption editing: see who else has this photo open and their drafts (live.py). */
(function () {
  "use strict";
  var script = document.currentScript;
  var input = document.getElementById("id_caption");
  if (!window.WebSocket || !script || !input) { return; }
  var box = document.getElementById("live-editors");
  var names = document.getElementById("editor-names");
  var status = document.getElementById("caption-status");
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + location.host + script.getAttribute("data-live");
  var socket = null;
  var retry = 500;

  function connect() {
    socket = new WebSocket(url);
    socket.onopen = function () { retry = 500; };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "presence") {
        names.textContent = message.editors.join(", ");
        box.setAttribute("data-count", String(message.editors.length));
        box.hidden = false;
      } else if (message.type === "caption") {
        input.value = message.caption;
        status.textContent = message.editor + " is editing";
      }
    };
    socket.onclose = function () {
      box.hidden = true;
      // Reconnect (another worker after a deploy), backing off to 10 s.
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  input.addEventListener("input", function () {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({type: "caption", caption: input.value}));
    }
  });
  connect();
}());
