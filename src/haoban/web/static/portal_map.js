// The citizen portal's place picker (issue 13): a Leaflet map to drop a pin, the gazetteer's places to
// search, the district filled from the pin or the address, the photo's GPS offered as the place, and
// the open appeals nearby ("this is mine too"). Tiles only when the city configured a source; otherwise
// a plain background with the gazetteer's places, so it works offline.
(function () {
  "use strict";
  var $ = function (s) { return document.querySelector(s); };
  var el = $("#pick-map");
  var form = $("#file-form");
  if (!form) return;
  var en = document.body.dataset.lang === "en";
  var lat = $("#latitude"), lon = $("#longitude"), district = $("#district"), address = $("#address");
  var status = $("#map-status");
  var map = null, pin = null, places = [];

  function say(text) { if (status) status.textContent = text; }
  function label(p) { return (en && p.name_en) ? p.name_en : p.name; }

  function setDistrict(code, why) {
    if (!code || !district || district.value === code) return;
    if (!Array.prototype.some.call(district.options, function (o) { return o.value === code; })) return;
    district.value = code;
    district.dataset.filled = why;
  }

  function nearestPlace(la, lo) {
    var best = null, bestD = Infinity;
    places.forEach(function (p) {
      if (p.kind !== "district") return;
      var d = Math.pow(p.latitude - la, 2) + Math.pow((p.longitude - lo) * Math.cos(la * Math.PI / 180), 2);
      if (d < bestD) { bestD = d; best = p; }
    });
    return best;
  }

  function place(la, lo, why) {
    lat.value = la.toFixed(6); lon.value = lo.toFixed(6);
    if (map) {
      if (!pin) {
        pin = L.marker([la, lo], { draggable: true, keyboard: true, title: en ? "The place" : "位置" }).addTo(map);
        pin.on("dragend", function () { var p = pin.getLatLng(); place(p.lat, p.lng, "pin"); });
      } else { pin.setLatLng([la, lo]); }
    }
    var near = nearestPlace(la, lo);
    if (near) setDistrict(near.district, "pin");
    el && (el.dataset.pinned = "1");
    say((en ? "Place set: " : "已选位置：") + la.toFixed(5) + ", " + lo.toFixed(5) +
        (near ? " · " + (en ? (near.district_en || near.district_name) : near.district_name) : ""));
    lookNearby();
  }

  // Open appeals about the same thing nearby, before filing: "this is mine too" joins one of them.
  var nearbyBox = $("#nearby"), nearbyList = $("#nearby-list"), content = $("#content"), nearbyTimer = null;
  var csrf = document.querySelector('meta[name="csrf-token"]');
  function lookNearby() {
    if (!nearbyBox) return;
    clearTimeout(nearbyTimer);
    nearbyTimer = setTimeout(function () {
      var text = content.value.trim();
      if (text.length < 6 && !lat.value) { nearbyBox.hidden = true; return; }
      fetch("/portal/nearby" + (en ? "?lang=en" : ""), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf ? csrf.content : "" },
        body: JSON.stringify({ text: text, district: district.value || null,
          latitude: lat.value ? parseFloat(lat.value) : null, longitude: lon.value ? parseFloat(lon.value) : null })
      }).then(function (r) { return r.ok ? r.json() : { items: [] }; }).then(function (data) {
        nearbyList.innerHTML = "";
        (data.items || []).forEach(function (it) {
          var li = document.createElement("li");
          var what = [it.problem || it.category, it.place, it.district].filter(Boolean).join(" · ");
          var p = document.createElement("p");
          p.textContent = what + " — " + it.received + " · " + it.status + " · " +
            nearbyList.dataset.callers.replace("{n}", it.callers);
          var b = document.createElement("button");
          b.type = "button"; b.className = "btn secondary join"; b.textContent = nearbyList.dataset.join;
          b.dataset.ref = it.ref;
          b.addEventListener("click", function () {
            var hidden = form.querySelector("input[name=join]");
            if (!hidden) { hidden = document.createElement("input"); hidden.type = "hidden"; hidden.name = "join"; form.appendChild(hidden); }
            hidden.value = it.ref;
            if (form.requestSubmit) form.requestSubmit(); else form.submit();
          });
          li.appendChild(p); li.appendChild(b); nearbyList.appendChild(li);
        });
        nearbyBox.hidden = !nearbyList.children.length;
      });
    }, 600);
  }
  if (content) content.addEventListener("input", lookNearby);
  if (district) district.addEventListener("change", lookNearby);

  if (el && window.L) {
    map = L.map(el, { zoomSnap: 0.5 }).setView([26.9, 112.6], 9);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, {
        attribution: el.dataset.attribution || "", maxZoom: 18, subdomains: el.dataset.subdomains || "abc"
      }).addTo(map);
    }
    var layer = L.featureGroup().addTo(map);
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, "pin"); });
    fetch("/portal/places" + (en ? "?lang=en" : ""), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        places = data.items || [];
        places.forEach(function (p) {
          var m = L.circleMarker([p.latitude, p.longitude], {
            radius: p.kind === "district" ? 6 : 4, weight: 1, color: "#1d4ed8", fillOpacity: .5
          });
          m.bindTooltip(label(p), { permanent: p.kind === "district" && !el.dataset.tiles, direction: "right" });
          m.on("click", function () { place(p.latitude, p.longitude, "place"); });
          m.addTo(layer);
        });
        if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
        el.dataset.places = String(places.length);
        if (lat.value && lon.value) place(parseFloat(lat.value), parseFloat(lon.value), "kept");
      });
  }

  // Address search through the gazetteer: suggestions, and the district from the text.
  var list = $("#place-suggestions"), timer = null;
  function search() {
    var q = address.value.trim();
    if (q.length < 2) { if (list) list.hidden = true; return; }
    fetch("/portal/places?q=" + encodeURIComponent(q) + (en ? "&lang=en" : ""), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.district) setDistrict(data.district, "text");
        if (!list) return;
        list.innerHTML = "";
        (data.items || []).slice(0, 6).forEach(function (p) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "link"; b.textContent = label(p) + (p.district_name && p.kind !== "district" ? " · " + (en ? (p.district_en || p.district_name) : p.district_name) : "");
          b.addEventListener("click", function () {
            if (address.value.indexOf(p.name) < 0) address.value = (p.name + " " + address.value).trim();
            setDistrict(p.district, "text");
            place(p.latitude, p.longitude, "place");
            if (map) map.setView([p.latitude, p.longitude], 13);
            list.hidden = true;
          });
          li.appendChild(b); list.appendChild(li);
        });
        list.hidden = !list.children.length;
      });
  }
  if (address) address.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 300); });

  // A photo's GPS position, offered as the place.
  var photos = $("#photos"), offer = $("#photo-place");
  if (photos && offer) {
    photos.addEventListener("change", function () {
      offer.hidden = true;
      var file = photos.files && photos.files[0];
      if (!file) return;
      var body = new FormData(); body.append("photo", file);
      var token = document.querySelector('meta[name="csrf-token"]');
      fetch("/portal/photo-place", { method: "POST", body: body, headers: token ? { "X-CSRF-Token": token.content } : {} })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || data.latitude == null) return;
          offer.hidden = false;
          offer.onclick = function () {
            place(data.latitude, data.longitude, "photo");
            if (map) map.setView([data.latitude, data.longitude], 14);
            offer.hidden = true;
          };
        });
    });
  }
})();
