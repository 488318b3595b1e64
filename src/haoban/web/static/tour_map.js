// AI游衡阳 map: places from the API on a Leaflet map (tiles only when the city configured a source;
// otherwise a plain background, so the page works offline), "near me", and the 南岳 walk.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var en = el.dataset.lang === "en";
  var map = L.map(el, { zoomSnap: 0.5 }).setView([27.1, 112.7], 9);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 18 }).addTo(map);
  }
  var layer = L.featureGroup().addTo(map);
  function label(p) { return (en && p.name_en) ? p.name_en : p.name; }
  fetch("/api/v1/tourism/places?limit=500" + (en ? "&lang=en" : ""))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      data.items.forEach(function (p) {
        if (p.latitude == null) return;
        var m = L.circleMarker([p.latitude, p.longitude], { radius: 7, weight: 2, color: "#1d4ed8", fillOpacity: .7 });
        m.bindPopup('<a href="/tour/places/' + encodeURIComponent(p.code) + '">' + label(p).replace(/</g, "&lt;") + "</a><br>" + p.kind_label);
        m.bindTooltip(label(p));
        m.addTo(layer);
      });
      if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
      el.dataset.markers = String(layer.getLayers().length);
    });
  var walk = Array.prototype.map.call(document.querySelectorAll("#walk-stops li"), function (li) {
    return [parseFloat(li.dataset.lat), parseFloat(li.dataset.lon)];
  });
  if (walk.length > 1) L.polyline(walk, { color: "#b45309", weight: 3, dashArray: "6 6" }).addTo(map);
  var btn = document.getElementById("near-me");
  var status = document.getElementById("near-status");
  var list = document.getElementById("near-list");
  btn.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = en ? "Location is not available." : "无法获取位置。"; return; }
    status.textContent = en ? "Finding you…" : "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lon = pos.coords.longitude;
      L.circleMarker([lat, lon], { radius: 9, color: "#dc2626" }).addTo(map).bindTooltip(en ? "You" : "我的位置");
      fetch("/api/v1/tourism/places?limit=5&lat=" + lat + "&lon=" + lon + (en ? "&lang=en" : ""))
        .then(function (r) { return r.json(); })
        .then(function (data) {
          list.innerHTML = "";
          data.items.forEach(function (p) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = "/tour/places/" + encodeURIComponent(p.code); a.textContent = label(p);
            li.appendChild(a); li.appendChild(document.createTextNode(" · " + p.distance_km + " km"));
            list.appendChild(li);
          });
          status.textContent = en ? "Nearest places:" : "离你最近的地点：";
          // The spoken guide of the nearest place that has one, ready to play.
          var withAudio = data.items.filter(function (p) { return p.guide_audio; })[0];
          var player = document.getElementById("near-audio");
          if (withAudio) { player.src = withAudio.guide_audio; player.hidden = false; player.title = label(withAudio); }
          map.setView([lat, lon], 13);
        });
    }, function () { status.textContent = en ? "Location was refused." : "定位被拒绝。"; });
  });
})();
