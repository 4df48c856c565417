// Draws a heat-map layer and outlines from the compact encoding in geo/encoding.py.
// All text goes through textContent: nothing from the data is parsed as HTML.
(function (map, d) {
  function decode(g, o, s) {
    var out = [], py = 0, px = 0;
    for (var i = 0; i < g.length; i++) {
      var rings = [];
      for (var j = 0; j < g[i].length; j++) {
        var r = g[i][j], y = py + r[0], x = px + r[1], pts = [];
        py = y; px = x;
        pts.push([o[0] + y / s, o[1] + x / s]);
        for (var m = 2; m < r.length; m += 2) {
          y += r[m]; x += r[m + 1];
          pts.push([o[0] + y / s, o[1] + x / s]);
        }
        rings.push(pts);
      }
      out.push(rings);
    }
    return out;
  }
  function textBox(lines, cls) {
    var el = L.DomUtil.create("div", cls);
    for (var i = 0; i < lines.length; i++) {
      var p = L.DomUtil.create(i === 0 ? "strong" : "div", "", el);
      p.textContent = lines[i];
    }
    return el;
  }
  var outlines = decode(d.outlines.g, d.o, d.s);
  for (var b = 0; b < outlines.length; b++) {
    L.polygon(outlines[b], {fill: false, color: "#0b0c0c", weight: 1.5, opacity: 0.8, interactive: false})
      .addTo(map);
  }
  var cells = decode(d.cells.g, d.o, d.s), group = L.featureGroup();
  cells.forEach(function (rings, i) {
    var cls = d.cells.c[i], hidden = cls < 0;
    var poly = L.polygon(rings, {
      stroke: true, weight: 0.5, color: hidden ? "#b1b4b6" : "#505a5f",
      fillColor: hidden ? "#ffffff" : d.palette[cls], fillOpacity: hidden ? 0.4 : 0.75
    });
    poly.bindTooltip(function () {
      var lines = hidden ? [d.hiddenText] : [d.valueLabel + ": " + d.cells.v[i], "People: " + d.cells.n[i]];
      if (d.cells.z) { lines.unshift(d.cells.z[i]); }
      return textBox(lines, "can-geo-tip");
    }, {sticky: true});
    group.addLayer(poly);
  });
  group.addTo(map);
  var title = L.control({position: "topright"});
  title.onAdd = function () { return textBox([d.title].concat(d.subtitle), "can-geo-box can-geo-title"); };
  title.addTo(map);
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var el = textBox([d.valueLabel], "can-geo-box can-geo-legend");
    var rows = d.legend.concat(d.hasHidden ? [[null, d.hiddenText]] : []);
    rows.forEach(function (row) {
      var line = L.DomUtil.create("div", "", el), sw = L.DomUtil.create("span", "can-geo-swatch", line);
      sw.style.background = row[0] === null ? "#ffffff" : row[0];
      line.appendChild(document.createTextNode(row[1]));
    });
    return el;
  };
  legend.addTo(map);
})
