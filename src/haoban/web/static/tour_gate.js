// Gate scan page: remember the gate's name; scan a QR code with the phone camera where the browser has
// the BarcodeDetector API (Chromium on Android), otherwise type the ticket's serial.
(function () {
  var form = document.getElementById("gate-form");
  if (!form) return;
  var gate = document.getElementById("gate");
  var code = document.getElementById("code");
  if (!gate.value && localStorage.getItem("haoban-gate")) gate.value = localStorage.getItem("haoban-gate");
  form.addEventListener("submit", function () { localStorage.setItem("haoban-gate", gate.value); });
  var btn = document.getElementById("camera-btn");
  var note = document.getElementById("camera-note");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { note.hidden = false; return; }
  btn.hidden = false;
  btn.addEventListener("click", async function () {
    var video = document.getElementById("camera");
    try {
      var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream; video.hidden = false; await video.play();
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      var look = async function () {
        var found = await detector.detect(video).catch(function () { return []; });
        if (found.length) {
          stream.getTracks().forEach(function (t) { t.stop(); });
          code.value = found[0].rawValue; form.requestSubmit();
          return;
        }
        requestAnimationFrame(look);
      };
      look();
    } catch (e) { note.hidden = false; }
  });
})();
