"""Reading a device import (CSV or GeoJSON), pure: rows in the file's order, or every bad field named."""

from __future__ import annotations

import json

import pytest

from gridgov_common.errors import ValidationFailed
from gridgov_sensing.devices import importer

CAMERA = "44190000001320000001"
HEADER = "device_id,kind,name,lon,lat,owner_department,algorithms"


def fields(exc: pytest.ExceptionInfo) -> list[str]:
    """The fields a refusal names."""
    return [d.field for d in exc.value.details]


def test_read_csv_in_order_with_algorithms_split_and_optional_columns():
    body = ("\ufeff" + "\n".join([HEADER, f"{CAMERA},camera,路口,113.75,23.02,urban-management,exposed_garbage; "
                                          "street_vending",
                                  "IOT-gas-1,sensor,燃气,113.7,23.0,,"]) + "\n").encode()
    rows = importer.read_csv(body)
    assert [(r.device_id, r.kind, r.lon, r.owner_department, r.algorithms) for r in rows] == [
        (CAMERA, "camera", 113.75, "urban-management", ["exposed_garbage", "street_vending"]),
        ("IOT-gas-1", "sensor", 113.7, None, [])]
    minimal = importer.read_csv(b"device_id,kind,name,lon,lat\nIOT-a,sensor,a,1,2\n")
    assert minimal[0].algorithms == [] and minimal[0].lat == 2.0


@pytest.mark.parametrize(("lines", "expected"), [
    (["IOT-a,sensor,a,east,23"], ["rows[0].lon"]),
    (["1234,camera,a,113,23"], ["rows[0].device_id"]),  # a camera's id has 20 digits
    (["IOT-a,drone,a,113,23"], ["rows[0].kind"]),
    (["IOT-a,sensor,a,113,23", "IOT-a,sensor,b,113,23"], ["rows[1].device_id"]),  # the same device twice
    (["IOT-a,sensor,a,200,23", "IOT-b,sensor,,113,95"], ["rows[0].lon", "rows[1].name", "rows[1].lat"]),
])
def test_read_csv_names_every_bad_field(lines, expected):
    body = "\n".join(["device_id,kind,name,lon,lat", *lines]).encode()
    with pytest.raises(ValidationFailed) as refused:
        importer.read_csv(body)
    assert fields(refused) == expected


@pytest.mark.parametrize(("body", "field"), [
    (b"device_id,kind,name\n", "header"),
    (b"device_id,kind,name,lon,lat,colour\nIOT-a,sensor,a,1,2,red\n", "header"),
    (b"device_id,kind,name,lon,lat\n", "rows"),
    (b"device_id,kind,name,lon,lat\nIOT-a,sensor,a,1,2,extra\n", "rows[0]"),
    ("device_id,kind,name,lon,lat\nIOT-a,sensor,路口,1,2\n".encode("gb2312"), "body"),
])
def test_read_csv_refuses_a_malformed_file(body, field):
    with pytest.raises(ValidationFailed) as refused:
        importer.read_csv(body)
    assert fields(refused) == [field]


def test_read_csv_refuses_more_rows_than_allowed():
    body = "\n".join(["device_id,kind,name,lon,lat", *(f"IOT-{i},sensor,s,1,2" for i in range(4))]).encode()
    assert len(importer.read_csv(body, max_rows=4)) == 4
    with pytest.raises(ValidationFailed) as refused:
        importer.read_csv(body, max_rows=3)
    assert fields(refused) == ["rows"]


def _feature(device_id: str | None, coords, **props) -> dict:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
               "properties": {"kind": "sensor", "name": "井盖", **props}}
    if device_id:
        feature["properties"]["device_id"] = device_id
    return feature


def test_read_geojson_takes_the_feature_id_and_ignores_derived_properties():
    doc = {"type": "FeatureCollection", "features": [
        {**_feature(None, [113.7, 23.0], algorithms="manhole_displaced;water_level", online=True,
                    grid_code="441900001001001"), "id": "IOT-manhole-9"},
        _feature("IOT-manhole-10", [113.71, 23.01, 12.5], algorithms=["manhole_displaced"])]}
    rows = importer.read_geojson(json.dumps(doc).encode())
    assert [(r.device_id, r.lon, r.lat, r.algorithms) for r in rows] == [
        ("IOT-manhole-9", 113.7, 23.0, ["manhole_displaced", "water_level"]),
        ("IOT-manhole-10", 113.71, 23.01, ["manhole_displaced"])]


@pytest.mark.parametrize(("doc", "field"), [
    ({"type": "Feature"}, "type"),
    ({"type": "FeatureCollection", "features": []}, "features"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon",
                                                 "coordinates": []}, "properties": {}}]}, "features[0].geometry"),
    ({"type": "FeatureCollection", "features": [_feature("IOT-a", [1, 2]), _feature("IOT-b", ["x", 2])]},
     "features[1].lon"),
    ({"type": "FeatureCollection", "features": [{**_feature("IOT-a", [1, 2]), "properties": [1]}]},
     "features[0].properties"),
])
def test_read_geojson_names_the_bad_field(doc, field):
    with pytest.raises(ValidationFailed) as refused:
        importer.read_geojson(json.dumps(doc).encode())
    assert fields(refused) == [field]
