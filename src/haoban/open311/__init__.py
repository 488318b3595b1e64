"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): the hotline seen through the open standard
that 311 apps and city partners speak. An adapter: services come from the category tree and the dispatch
catalogue, requests are orders, shown without personal data."""
