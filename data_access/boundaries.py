"""Load village and township boundaries into ``region.geometry``, from the files a county holds.

``python -m data_access boundaries FILE [--db URL] [--layer NAME] [--crs EPSG:4545] [--encoding GBK]
[--field NAME] [--name-field NAME] [--town-field NAME] [--simplify METRES] [--accept-partial]
[--clear-missing] [--dry-run]``

- Formats: Shapefile (.shp with its .dbf/.shx/.prj/.cpg), GeoPackage (.gpkg; the polygon layer, or the
  one named with ``--layer``), GeoJSON (UTF-8 or GB18030, RFC 7946 lon/lat or an old-style ``crs``
  member), read with pyogrio (GDAL); any other vector format GDAL reads works too.
- Coordinates: reprojected with pyproj from the file's coordinate system (the .prj, the GeoPackage's
  SRS, or ``--crs``) to CGCS2000 lon/lat (EPSG:4490), e.g. from the CGCS2000 Gauss–Krüger zones
  (3° zones EPSG:4513–4533 with the zone number in the easting, 4534–4554 without; 6° zones
  4491–4501 / 4502–4512). A file without a coordinate system is taken as lon/lat; a feature whose
  coordinates are not lon/lat is then reported (use ``--crs``).
- Geometry: Polygon/MultiPolygon only; invalid rings (self-intersections, bow-ties) are repaired with
  shapely ``make_valid``, then simplified for the browser (``--simplify``, default 5 m, topology kept)
  and rounded to 6 decimals (~0.1 m). The centre point is the centroid of the largest part.
- Matching: by the region's code in a property (``code``, ``区划代码``, ``XZQDM``, ``ZLDWDM``...; 12
  digits, or 15 with the urban-rural class, 19 for a 三调 坐落单位代码, 9 for a township, or the field
  named with ``--field``); in a file with no codes at all, by village name within its township
  (``村名``/``name``/``ZLDWMC``... and ``乡镇``/``XZMC``...; the official suffixes 村民委员会,
  社区居民委员会, 居委会... and a trailing 村/社区 ignored), or by village name alone when the file
  names no township and the name is unique in the county.
- The report lists what matched (by code or by name), features that match nothing, features whose
  name fits several villages (ambiguous), and villages that got no feature. When anything is left
  over the match is partial and nothing is written unless ``--accept-partial`` is given; a file that
  cannot be read writes nothing at all. Villages without a feature keep their old polygon, or with
  ``--clear-missing`` lose it (then drawn at their centre, or on the schematic map).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.engine import Engine

from . import db
from .geometry import centroid, signed_area
from .names import match_key
from .summary.refresh import refresh as refresh_summaries
from .schema import import_log, region

CODE_FIELDS = ("code", "区划代码", "统计用区划代码", "village_code", "town_code", "region_code", "CODE", "Code",
               "adcode", "ADCODE", "行政区划代码", "QHDM", "XZQDM", "CJQYDM", "XZDM", "ZLDWDM", "CJDM", "CUNDM")
NAME_FIELDS = ("村名", "村名称", "行政村", "行政村名称", "村级名称", "村委会", "name", "NAME", "Name", "名称", "ZLDWMC",
               "CJQYMC", "CJMC", "CUNMC", "XZQMC", "MC")
TOWN_FIELDS = ("乡镇", "乡镇名称", "乡镇名", "所属乡镇", "乡镇街道", "town", "TOWN", "Town", "town_name", "XZMC",
               "XIANGZHEN")
LON_LAT = "EPSG:4490"  # CGCS2000 geographic (lon/lat with always_xy); equal to WGS84 at map scale
DEFAULT_SIMPLIFY_M = 5.0
METRES_PER_DEGREE = 111_320.0
LEVELS = ("county", "town", "village")
_CODE_RE = re.compile(r"^\d{12}$")


class BoundaryError(db.RegistryError):
    """The file cannot be used at all (message in Chinese)."""

    title = "边界文件无法使用"


@dataclass
class Report:
    file_name: str
    features: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # level -> regions updated
    unmatched: list[tuple[int, str, str]] = field(default_factory=list)  # (feature no., code or "", reason)
    villages_without: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    ambiguous: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (feature no., name, codes)
    by_name: int = 0  # features matched by name (the rest by code)
    crs: str = ""  # the file's coordinate system, as read
    repaired: int = 0  # geometries made valid
    cleared: int = 0
    dry_run: bool = False
    accept_partial: bool = False

    @property
    def partial(self) -> bool:
        return bool(self.unmatched or self.ambiguous or self.villages_without)

    @property
    def refused(self) -> bool:
        """A partial match without ``--accept-partial``: nothing is written."""
        return self.partial and not self.accept_partial and not self.dry_run

    @property
    def written(self) -> int:
        return sum(self.matched.values())

    def text(self, limit: int = 50) -> str:
        level_names = {"county": "县", "town": "乡镇", "village": "村"}
        lines = [f"边界文件 {self.file_name}:共 {self.features} 个要素" + (f",坐标系 {self.crs}" if self.crs else "")
                 + "。"]
        if self.by_name:
            lines.append(f"文件中没有区划代码,按乡镇和村名匹配 {self.by_name} 个要素(已忽略“村民委员会”等后缀)。")
        if self.repaired:
            lines.append(f"修复了 {self.repaired} 个无效的多边形(自相交等)。")
        done = "将更新" if self.dry_run or self.refused else "已更新"
        parts = [f"{level_names[k]} {v} 个" for k, v in self.matched.items() if v]
        lines.append(f"{done}边界:{'、'.join(parts) if parts else '无'}。")
        if self.unmatched:
            lines.append(f"未能匹配的要素 {len(self.unmatched)} 个:")
            lines += [f"  第 {n} 个要素 {code or '(无代码)'}:{why}" for n, code, why in self.unmatched[:limit]]
            if len(self.unmatched) > limit:
                lines.append(f"  …… 另有 {len(self.unmatched) - limit} 个")
        if self.ambiguous:
            lines.append(f"名称有歧义的要素 {len(self.ambiguous)} 个(同名的村不止一个,请在文件中加区划代码或乡镇名):")
            lines += [f"  第 {n} 个要素 {name}:可能是 {'、'.join(codes[:5])}"
                      for n, name, codes in self.ambiguous[:limit]]
        if self.villages_without:
            keep = ("已清除原有边界," if self.cleared else "保留原有边界(若有),") \
                if not (self.dry_run or self.refused) else ""
            lines.append(f"没有对应要素的行政村 {len(self.villages_without)} 个({keep}无边界的村在地图上画为中心点):")
            lines += [f"  {code} {name}" for code, name in self.villages_without[:limit]]
            if len(self.villages_without) > limit:
                lines.append(f"  …… 另有 {len(self.villages_without) - limit} 个")
        else:
            lines.append("每个行政村都有对应的边界。")
        if self.dry_run:
            lines.append("(试运行:数据库未改动)")
        elif self.refused:
            lines.append("匹配不完整,数据库未改动。核对上面的清单;确认只导入已匹配的部分时,"
                         "加 --accept-partial 重新运行。")
        return "\n".join(lines)


def feature_code(props: dict, field_name: str | None = None) -> str | None:
    """The 12-digit code of a feature's properties, or None."""
    keys = (field_name,) if field_name else CODE_FIELDS
    for key in keys:
        value = props.get(key)
        if value is None:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and (math.isnan(value) or not value.is_integer()):
            continue
        text = str(int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        text = text.strip()
        if len(text) == 15 and text[:12].isdigit():  # 12 digits + 3-digit urban-rural class
            text = text[:12]
        elif len(text) == 19 and text.isdigit() and text[12:] == "0000000":  # 三调 坐落单位代码
            text = text[:12]
        elif len(text) == 9 and text.isdigit():  # a township's 9 digits
            text += "000"
        if _CODE_RE.match(text):
            return text
    return None


def _clean_ring(ring) -> list[list[float]]:
    pts = []
    for p in ring:
        if not isinstance(p, (list, tuple)) or len(p) < 2:
            raise ValueError("坐标格式不对")
        lon, lat = float(p[0]), float(p[1])
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValueError(f"坐标 ({p[0]}, {p[1]}) 不是经纬度(可能是投影坐标,请先转换为 WGS84/CGCS2000 经纬度)")
        pts.append([round(lon, 6), round(lat, 6)])
    if len(pts) < 3:
        raise ValueError("多边形顶点少于3个")
    if pts[0] != pts[-1]:
        pts.append(list(pts[0]))
    return pts


def clean_geometry(geometry) -> dict:
    """A Polygon/MultiPolygon with closed, rounded lon/lat rings; raises ValueError (Chinese) otherwise."""
    if not isinstance(geometry, dict):
        raise ValueError("没有几何图形")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon":
        polys = coords
    else:
        raise ValueError(f"几何类型为 {kind},只接受 Polygon 或 MultiPolygon")
    if not polys or not isinstance(polys, list):
        raise ValueError("几何图形为空")
    cleaned = [[_clean_ring(r) for r in poly] for poly in polys if poly]
    if not cleaned:
        raise ValueError("几何图形为空")
    if len(cleaned) == 1:
        return {"type": "Polygon", "coordinates": cleaned[0]}
    return {"type": "MultiPolygon", "coordinates": cleaned}


def centre(geometry: dict) -> tuple[float, float]:
    """Centroid (lon, lat) of the largest outer ring."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    outer = max((p[0] for p in polys), key=lambda r: abs(signed_area(r)))
    return centroid(outer)


@dataclass
class Feature:
    n: int  # 1-based, in file order
    props: dict
    geometry: object = None  # shapely geometry in the file's coordinates, or None
    error: str = ""  # why the geometry cannot be used


@dataclass
class Source:
    features: list[Feature]
    crs: pyproj.CRS | None
    fields: list[str]


def _plain(value):
    """A property value as plain Python (numpy scalars, bytes and blanks made simple)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("gb18030", errors="replace")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _parse_crs(text, where: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        raise BoundaryError(f"无法识别{where}的坐标系 {str(text)[:80]}(例:EPSG:4545、EPSG:4490)") from exc


def _read_geojson(path: Path) -> Source:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BoundaryError(f"无法读取文件 {path}:{exc.strerror or exc}") from exc
    data = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data = json.loads(raw.decode(encoding))
            break
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
    if data is None:
        raise BoundaryError(f"{path.name} 不是有效的 GeoJSON(JSON 解析失败)")
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        items = list(data.get("features") or [])
    elif isinstance(data, dict) and data.get("type") == "Feature":
        items = [data]
    else:
        raise BoundaryError(f"{path.name} 不是 GeoJSON 要素集合(FeatureCollection)")
    crs = None
    named = ((data.get("crs") or {}).get("properties") or {}).get("name") if isinstance(data.get("crs"), dict) else None
    if named:
        crs = _parse_crs(named, f" {path.name} 中")
    features, fields = [], []
    for n, item in enumerate(items, start=1):
        item = item if isinstance(item, dict) else {}
        props = {k: _plain(v) for k, v in (item.get("properties") or {}).items()}
        fields += [k for k in props if k not in fields]
        geometry, error = None, ""
        raw_geom = item.get("geometry")
        if not isinstance(raw_geom, dict) or not raw_geom.get("type"):
            error = "没有几何图形"
        else:
            try:
                geometry = shapely.from_geojson(json.dumps(raw_geom))
            except (shapely.errors.GEOSException, ValueError, TypeError):
                error = "几何图形格式不对"
        features.append(Feature(n, props, geometry, error))
    return Source(features, crs, fields)


def _pick_layer(path: Path, layer: str | None) -> str | None:
    try:
        layers = [(str(name), str(kind)) for name, kind in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise BoundaryError(f"无法读取 {path.name}:不是可识别的 Shapefile、GeoPackage 或 GeoJSON 文件"
                            f"(Shapefile 需与同名的 .dbf、.shx 放在一起)") from exc
    if layer is not None:
        if layer not in {name for name, _ in layers}:
            raise BoundaryError(f"{path.name} 中没有图层 {layer};有:{'、'.join(n for n, _ in layers)}")
        return layer
    polygonal = [name for name, kind in layers if "Polygon" in kind]
    if len(layers) <= 1:
        return None
    if len(polygonal) == 1:
        return polygonal[0]
    raise BoundaryError(f"{path.name} 有多个图层({'、'.join(n + '(' + k + ')' for n, k in layers)}),"
                        f"请用 --layer 指定村界所在的图层")


def _read_ogr(path: Path, layer: str | None, encoding: str | None) -> Source:
    chosen = _pick_layer(path, layer)
    if encoding is None and path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists() \
            and not path.with_suffix(".CPG").exists():
        encoding = _guess_dbf_encoding(path)
    try:
        meta, _fids, geometry, field_data = pyogrio.raw.read(path, layer=chosen, encoding=encoding, force_2d=True)
    except (DataSourceError, DataLayerError, OSError, UnicodeDecodeError) as exc:
        raise BoundaryError(f"无法读取 {path.name}:{str(exc)[:200]}") from exc
    fields = [str(f) for f in meta["fields"]]
    crs = _parse_crs(meta["crs"], f" {path.name} ") if meta.get("crs") else None
    features = []
    for i, wkb in enumerate(geometry):
        props = {name: _plain(column[i]) for name, column in zip(fields, field_data)}
        geom, error = None, ""
        if wkb is None:
            error = "没有几何图形"
        else:
            try:
                geom = shapely.from_wkb(wkb)
            except shapely.errors.GEOSException:
                error = "几何图形格式不对"
        features.append(Feature(i + 1, props, geom, error))
    return Source(features, crs, fields)


def _guess_dbf_encoding(path: Path) -> str | None:
    """A Shapefile without .cpg: UTF-8 when its text reads as UTF-8, else GB18030 (GBK, as ArcGIS in China writes)."""
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    try:
        dbf.read_bytes().decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"
    except OSError:
        return None


def read_source(path: str | Path, *, layer: str | None = None, crs: str | None = None,
                encoding: str | None = None) -> Source:
    """The file's features with their properties and geometries (in the file's coordinates) and its CRS.

    Raises BoundaryError (Chinese) when the file cannot be read at all."""
    path = Path(path)
    if not path.exists():
        raise BoundaryError(f"找不到文件 {path}")
    if path.suffix.lower() in (".geojson", ".json"):
        source = _read_geojson(path)
    else:
        source = _read_ogr(path, layer, encoding)
    if crs:
        source.crs = _parse_crs(crs, "(--crs)")
    return source


def _to_lon_lat(crs: pyproj.CRS | None):
    """A function (x, y arrays) -> (lon, lat) arrays, or None when the coordinates are lon/lat already."""
    if crs is None:
        return None
    target = pyproj.CRS.from_user_input(LON_LAT)
    # GeoJSON and GDAL give x = longitude for geographic systems too (GIS axis order)
    if crs.is_geographic and crs.datum is not None and crs.datum.name in (
            target.datum.name, "World Geodetic System 1984", "World Geodetic System 1984 ensemble"):
        return None
    transformer = pyproj.Transformer.from_crs(crs, target, always_xy=True)

    def transform(coords):
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])
    return transform


def _polygonal(geom):
    """The polygonal part of ``geom`` (make_valid may give lines and points too), or None."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        if parts:
            return shapely.union_all(parts)
    return None


def prepare(feature: Feature, transform, tolerance_deg: float) -> tuple[dict | None, str, bool]:
    """(GeoJSON dict in lon/lat, error, repaired) of one feature: checked, reprojected, repaired, simplified."""
    geom = feature.geometry
    if geom is None:
        return None, feature.error or "没有几何图形", False
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, f"几何类型为 {geom.geom_type},只接受 Polygon 或 MultiPolygon", False
    if geom.is_empty:
        return None, "几何图形为空", False
    if transform is not None:
        geom = shapely.transform(geom, transform)
    xmin, ymin, xmax, ymax = geom.bounds
    if not (-180.0 <= xmin <= xmax <= 180.0 and -90.0 <= ymin <= ymax <= 90.0) or not all(
            map(math.isfinite, (xmin, ymin, xmax, ymax))):
        return None, (f"坐标 ({xmin:.0f}, {ymin:.0f}) 不是经纬度(可能是投影坐标而文件没有坐标系:"
                      f"请用 --crs 指定,如 CGCS2000 3度带 EPSG:4545)"), False
    repaired = not geom.is_valid
    if repaired:
        geom = _polygonal(shapely.make_valid(geom))
        if geom is None:
            return None, "多边形无效且无法修复", True
    if tolerance_deg > 0:
        simpler = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
        if not simpler.is_empty and simpler.is_valid:
            geom = simpler
    try:
        return clean_geometry(json.loads(shapely.to_geojson(geom))), "", repaired
    except (ValueError, TypeError) as exc:
        return None, str(exc), repaired


def _field(fields: list[str], wanted: str | None, candidates: tuple[str, ...]) -> str | None:
    if wanted:
        if wanted not in fields:
            raise BoundaryError(f"文件中没有字段 {wanted}(有:{'、'.join(fields[:30])})")
        return wanted
    lower = {f.lower(): f for f in fields}
    return next((lower[c.lower()] for c in candidates if c.lower() in lower), None)


def _town_key(name) -> str:
    text = "".join(str(name or "").split())
    for tail in ("街道办事处", "街道", "镇", "乡"):
        if text.endswith(tail) and len(text) > len(tail):
            return text[: -len(tail)]
    return text


class _Names:
    """The registry's villages and townships by name, for a file without codes."""

    def __init__(self, known: dict[str, tuple[str, str, str | None]]):
        towns = {code: name for code, (level, name, _) in known.items() if level == "town"}
        self.pair: dict[tuple[str, str], list[str]] = {}
        self.village: dict[str, list[str]] = {}
        self.town: dict[str, list[str]] = {}
        for code, (level, name, parent) in sorted(known.items()):
            if level == "village":
                self.pair.setdefault((_town_key(towns.get(parent, "")), match_key(name)), []).append(code)
                self.village.setdefault(match_key(name), []).append(code)
            elif level == "town":
                self.town.setdefault(_town_key(name), []).append(code)

    def find(self, name, town) -> list[str]:
        if not name:
            return []
        if town:
            return self.pair.get((_town_key(town), match_key(name)), [])
        return self.village.get(match_key(name)) or self.town.get(_town_key(name), [])


def load(engine: Engine, path: str | Path, *, field_name: str | None = None, clear_missing: bool = False,
         dry_run: bool = False, accept_partial: bool = False, layer: str | None = None, crs: str | None = None,
         encoding: str | None = None, name_field: str | None = None, town_field: str | None = None,
         simplify_m: float = DEFAULT_SIMPLIFY_M) -> Report:
    """Write the file's boundaries into ``region``; returns the report (see module doc).

    Nothing is written when the file cannot be read (BoundaryError), on a dry run, or when the match is
    partial and ``accept_partial`` is False (``report.refused``)."""
    path = Path(path)
    source = read_source(path, layer=layer, crs=crs, encoding=encoding)
    report = Report(file_name=path.name, features=len(source.features), dry_run=dry_run,
                    accept_partial=accept_partial)
    if source.crs is not None:
        epsg = source.crs.to_epsg()
        report.crs = f"{source.crs.name}" + (f"(EPSG:{epsg})" if epsg else "")
    transform = _to_lon_lat(source.crs)
    with engine.connect() as conn:
        known = {r.code: (r.level, r.name, r.parent_code) for r in conn.execute(
            select(region.c.code, region.c.level, region.c.name, region.c.parent_code)
            .where(region.c.level.in_(LEVELS)))}
    codes = {f.n: feature_code(f.props, field_name) for f in source.features}
    by_name = field_name is None and not any(codes.values())
    name_key = town_key = None
    names = None
    if by_name:
        name_key = _field(source.fields, name_field, NAME_FIELDS)
        town_key = _field(source.fields, town_field, TOWN_FIELDS)
        names = _Names(known) if name_key else None
    updates: dict[str, tuple[str, float, float]] = {}
    for f in source.features:
        code = codes[f.n]
        if code is None and names is not None:
            label = f.props.get(name_key)
            found = names.find(label, f.props.get(town_key) if town_key else None)
            if len(found) > 1:
                report.ambiguous.append((f.n, str(label), found))
                continue
            if not found:
                where = f"(乡镇 {f.props.get(town_key)})" if town_key and f.props.get(town_key) else ""
                why = f"数据库中没有名为 {label} 的村{where}" if label else "属性中没有12位区划代码,也没有村名"
                report.unmatched.append((f.n, "", why))
                continue
            code = found[0]
            report.by_name += 1
        if code is None:
            why = "属性中没有12位区划代码" + (f"(字段 {field_name})" if field_name else "")
            report.unmatched.append((f.n, "", why))
            continue
        if code not in known:
            report.unmatched.append((f.n, code, "数据库中没有这个区划(县、乡镇或行政村)"))
            continue
        geometry, error, repaired = prepare(f, transform, simplify_m / METRES_PER_DEGREE)
        report.repaired += repaired
        if geometry is None:
            report.unmatched.append((f.n, code, error))
            continue
        if code in updates:
            report.unmatched.append((f.n, code, "与前面的要素对应同一个区划,已忽略"))
            continue
        lon, lat = centre(geometry)
        updates[code] = (json.dumps(geometry, ensure_ascii=False, separators=(",", ":")), lon, lat)
    for code in updates:
        level = known[code][0]
        report.matched[level] = report.matched.get(level, 0) + 1
    # Villages of the counties this file touches that got no feature.
    counties = {code[:6] for code in updates} or {c[:6] for c in known}
    report.villages_without = sorted(
        (code, name) for code, (level, name, _) in known.items()
        if level == "village" and code[:6] in counties and code not in updates
    )
    if dry_run or report.refused or not updates:
        return report
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with engine.begin() as conn:
        for code, (text, lon, lat) in updates.items():
            conn.execute(update(region).where(region.c.code == code).values(geometry=text, lon=lon, lat=lat))
        if clear_missing and report.villages_without:
            missing = [c for c, _ in report.villages_without]
            for i in range(0, len(missing), 500):
                conn.execute(update(region).where(region.c.code.in_(missing[i:i + 500])).values(geometry=None))
            report.cleared = len(missing)
        conn.execute(insert(import_log).values(
            imported_at=datetime.now(), user_id="cli", file_name=path.name[:255], file_hash=digest,
            rows_read=report.features, rows_written=report.written,
            rows_rejected=len(report.unmatched) + len(report.ambiguous),
            dry_run=False, message=f"边界导入:{report.written} 个区划,未匹配 {len(report.unmatched)} 个要素,"
                                   f"有歧义 {len(report.ambiguous)} 个,无边界的村 {len(report.villages_without)} 个",
        ))
        db.bump_data_version(conn)
    try:  # the new data version makes the summaries stale: rebuild them (if this fails, pages read the base tables)
        refresh_summaries(engine)
    except SQLAlchemyError:
        pass
    return report

def add_arguments(parser) -> None:
    """Arguments of ``python -m data_access boundaries``."""
    parser.add_argument("file", help="边界文件:Shapefile(.shp)、GeoPackage(.gpkg)或 GeoJSON;"
                                     "投影坐标(如 CGCS2000 高斯-克吕格)自动转换为经纬度")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="数据库地址(默认:REGISTRY_DB_URL、secrets.toml 或 data/registry.db)")
    parser.add_argument("--field", default=None, help="区划代码所在的属性名(默认自动识别 code、区划代码 等)")
    parser.add_argument("--name-field", default=None, help="无区划代码时,村名所在的属性名(默认自动识别 村名、name 等)")
    parser.add_argument("--town-field", default=None, help="无区划代码时,乡镇名所在的属性名(默认自动识别 乡镇 等)")
    parser.add_argument("--layer", default=None, help="GeoPackage 等多图层文件中村界所在的图层")
    parser.add_argument("--crs", default=None, metavar="EPSG:4545",
                        help="文件的坐标系(文件没有 .prj 或坐标系信息时指定)")
    parser.add_argument("--encoding", default=None, help="Shapefile 属性表的编码(默认按 .cpg,没有时自动判断 UTF-8/GBK)")
    parser.add_argument("--simplify", type=float, default=DEFAULT_SIMPLIFY_M, metavar="米",
                        help=f"为浏览器简化边界的容差(米,默认 {DEFAULT_SIMPLIFY_M:g};0 为不简化)")
    parser.add_argument("--accept-partial", action="store_true",
                        help="部分匹配时(有未匹配或有歧义的要素、或有村没有边界)仍写入已匹配的部分")
    parser.add_argument("--clear-missing", action="store_true",
                        help="清除文件中没有的村的原有边界(这些村在地图上画为中心点)")
    parser.add_argument("--dry-run", action="store_true", help="只检查并报告,不写数据库")


def run(args) -> int:
    """Load the file and print the report; exit code 1 when nothing matched, 2 when the match is partial and
    nothing was written (without --accept-partial)."""
    engine = db.get_engine(args.db or db.resolve_url())
    db.check_database(engine)
    report = load(engine, args.file, field_name=args.field, clear_missing=args.clear_missing, dry_run=args.dry_run,
                  accept_partial=args.accept_partial, layer=args.layer, crs=args.crs, encoding=args.encoding,
                  name_field=args.name_field, town_field=args.town_field, simplify_m=args.simplify)
    print(report.text())
    if report.refused and report.written:
        return 2  # partial: nothing written, --accept-partial to write what matched
    return 0 if report.written else 1
