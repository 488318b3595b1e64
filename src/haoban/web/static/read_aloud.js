// 朗读 / Read aloud (issue 18): speak the page's main text with the browser's speech synthesis when it
// has a voice for the page's language; otherwise ask the server for espeak-ng audio and play it here.
// Without this script the control is a plain form that returns the audio.
(function () {
  "use strict";
  const form = document.getElementById("read-aloud-form");
  if (!form) return;
  const btn = document.getElementById("read-aloud");
  const status = document.getElementById("read-aloud-status");
  const text = form.elements.text ? form.elements.text.value : "";
  const en = form.elements.lang && form.elements.lang.value === "en";
  const synth = window.speechSynthesis;
  const canSpeak = !!(synth && window.SpeechSynthesisUtterance);
  let speaking = false;

  function pressed(on) {
    speaking = on;
    btn.textContent = on ? form.dataset.stop : form.dataset.play;
    btn.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function voiceFor() {
    const voices = synth.getVoices() || [];
    const want = en ? "en" : "zh";
    return voices.find((v) => (v.lang || "").toLowerCase().replace("_", "-").startsWith(want)) || null;
  }
  async function serverAudio() {
    status.textContent = form.dataset.making;
    try {
      const r = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      if (!r.ok || !(r.headers.get("content-type") || "").startsWith("audio/")) {
        let msg = form.dataset.failed;
        try {
          const doc = new DOMParser().parseFromString(await r.text(), "text/html");
          const detail = doc.querySelector(".error-page small");
          if (detail) msg = detail.textContent;
        } catch (e) { /* keep the general message */ }
        status.textContent = msg;
        return;
      }
      let audio = document.getElementById("read-aloud-audio");
      if (!audio) {
        audio = document.createElement("audio");
        audio.id = "read-aloud-audio";
        audio.controls = true;
        form.parentNode.insertBefore(audio, status);
      }
      audio.src = r.url;
      status.textContent = "";
      audio.play().catch(() => { /* autoplay refused: the controls are there */ });
      audio.focus();
    } catch (e) {
      status.textContent = form.dataset.failed;
    }
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (speaking) { synth.cancel(); pressed(false); return; }
    const voices = canSpeak ? synth.getVoices() || [] : [];
    const voice = canSpeak ? voiceFor() : null;
    // No synthesis, or voices known and none speaks this language: the server's audio.
    if (!canSpeak || (voices.length && !voice)) { serverAudio(); return; }
    const u = new SpeechSynthesisUtterance(text);
    u.lang = en ? "en-GB" : "zh-CN";
    if (voice) u.voice = voice;
    u.onend = () => pressed(false);
    u.onerror = (e) => { pressed(false); if (e.error !== "interrupted" && e.error !== "canceled") serverAudio(); };
    synth.cancel();
    pressed(true);
    synth.speak(u);
  });
  window.addEventListener("pagehide", () => { if (speaking) synth.cancel(); });
})();
