"""Load village and township boundaries (GeoJSON, lon/lat) into ``region.geometry``.

``python -m data_access boundaries FILE.geojson [--db URL] [--field NAME] [--clear-missing] [--dry-run]``

Each feature must carry the region's 12-digit statistical code in a property (``code``,
``区划代码``, ``village_code``, ``town_code``, ``CODE``, ``adcode``..., or the one named with
``--field``); Polygon and MultiPolygon geometries are accepted. Matching features replace the
region's geometry and its centre point (lon/lat, the centroid of its largest part). The report
lists features that match no region and villages that got no feature: those keep their old
polygon, or with ``--clear-missing`` lose it, and are then drawn as points at their centre.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.engine import Engine

from . import db
from .geometry import centroid, signed_area
from .summary.refresh import refresh as refresh_summaries
from .schema import import_log, region

CODE_FIELDS = ("code", "区划代码", "统计用区划代码", "village_code", "town_code", "region_code", "CODE", "Code",
               "adcode", "ADCODE", "行政区划代码", "QHDM", "XZQDM", "CJQYDM", "XZDM")
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
    cleared: int = 0
    dry_run: bool = False

    @property
    def written(self) -> int:
        return sum(self.matched.values())

    def text(self, limit: int = 50) -> str:
        level_names = {"county": "县", "town": "乡镇", "village": "村"}
        lines = [f"边界文件 {self.file_name}:共 {self.features} 个要素。"]
        done = "将更新" if self.dry_run else "已更新"
        parts = [f"{level_names[k]} {v} 个" for k, v in self.matched.items() if v]
        lines.append(f"{done}边界:{'、'.join(parts) if parts else '无'}。")
        if self.unmatched:
            lines.append(f"未能匹配的要素 {len(self.unmatched)} 个:")
            lines += [f"  第 {n} 个要素 {code or '(无代码)'}:{why}" for n, code, why in self.unmatched[:limit]]
            if len(self.unmatched) > limit:
                lines.append(f"  …… 另有 {len(self.unmatched) - limit} 个")
        if self.villages_without:
            keep = ("已清除原有边界," if self.cleared else "保留原有边界(若有),") if not self.dry_run else ""
            lines.append(f"没有对应要素的行政村 {len(self.villages_without)} 个({keep}无边界的村在地图上画为中心点):")
            lines += [f"  {code} {name}" for code, name in self.villages_without[:limit]]
            if len(self.villages_without) > limit:
                lines.append(f"  …… 另有 {len(self.villages_without) - limit} 个")
        else:
            lines.append("每个行政村都有对应的边界。")
        if self.dry_run:
            lines.append("(试运行:数据库未改动)")
        return "\n".join(lines)


def feature_code(props: dict, field_name: str | None = None) -> str | None:
    """The 12-digit code of a feature's properties, or None."""
    keys = (field_name,) if field_name else CODE_FIELDS
    for key in keys:
        value = props.get(key)
        if value is None:
            continue
        text = str(int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        text = text.strip()
        if len(text) == 15 and text[:12].isdigit():  # 12 digits + 3-digit urban-rural class
            text = text[:12]
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


def read_features(path: Path) -> list:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BoundaryError(f"无法读取文件 {path}:{exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data = json.loads(raw.decode(encoding))
            break
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
    if data is None:
        raise BoundaryError(f"{path.name} 不是有效的 GeoJSON(JSON 解析失败)")
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        return list(data.get("features") or [])
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    raise BoundaryError(f"{path.name} 不是 GeoJSON 要素集合(FeatureCollection)")


def load(engine: Engine, path: str | Path, *, field_name: str | None = None, clear_missing: bool = False,
         dry_run: bool = False) -> Report:
    """Write the file's boundaries into ``region``; returns the report (see module doc)."""
    path = Path(path)
    features = read_features(path)
    report = Report(file_name=path.name, features=len(features), dry_run=dry_run)
    with engine.connect() as conn:
        known = {r.code: (r.level, r.name) for r in conn.execute(
            select(region.c.code, region.c.level, region.c.name).where(region.c.level.in_(LEVELS)))}
    updates: dict[str, tuple[str, float, float]] = {}
    for n, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {} if isinstance(feature, dict) else {}
        code = feature_code(props, field_name)
        if code is None:
            report.unmatched.append((n, "", "属性中没有12位区划代码" + (f"(字段 {field_name})" if field_name else "")))
            continue
        if code not in known:
            report.unmatched.append((n, code, "数据库中没有这个区划(县、乡镇或行政村)"))
            continue
        try:
            geometry = clean_geometry(feature.get("geometry"))
        except (ValueError, TypeError) as exc:
            report.unmatched.append((n, code, str(exc)))
            continue
        if code in updates:
            report.unmatched.append((n, code, "与前面的要素代码重复,已忽略"))
            continue
        lon, lat = centre(geometry)
        updates[code] = (json.dumps(geometry, ensure_ascii=False, separators=(",", ":")), lon, lat)
    for code in updates:
        level = known[code][0]
        report.matched[level] = report.matched.get(level, 0) + 1
    # Villages of the counties this file touches that got no feature.
    counties = {code[:6] for code in updates} or {c[:6] for c in known}
    report.villages_without = sorted(
        (code, name) for code, (level, name) in known.items()
        if level == "village" and code[:6] in counties and code not in updates
    )
    if dry_run:
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
            rows_read=report.features, rows_written=report.written, rows_rejected=len(report.unmatched),
            dry_run=False, message=f"边界导入:{report.written} 个区划,未匹配 {len(report.unmatched)} 个要素,"
                                   f"无边界的村 {len(report.villages_without)} 个",
        ))
        db.bump_data_version(conn)
    try:  # the new data version makes the summaries stale: rebuild them (if this fails, pages read the base tables)
        refresh_summaries(engine)
    except SQLAlchemyError:
        pass
    return report


def add_arguments(parser) -> None:
    """Arguments of ``python -m data_access boundaries``."""
    parser.add_argument("file", help="GeoJSON 文件(经纬度坐标,要素属性中含12位区划代码)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="数据库地址(默认:REGISTRY_DB_URL、secrets.toml 或 data/registry.db)")
    parser.add_argument("--field", default=None, help="区划代码所在的属性名(默认自动识别 code、区划代码 等)")
    parser.add_argument("--clear-missing", action="store_true",
                        help="清除文件中没有的村的原有边界(这些村在地图上画为中心点)")
    parser.add_argument("--dry-run", action="store_true", help="只检查并报告,不写数据库")


def run(args) -> int:
    """Load the file and print the report; exit code 1 when nothing matched."""
    engine = db.get_engine(args.db or db.resolve_url())
    db.check_database(engine)
    report = load(engine, args.file, field_name=args.field, clear_missing=args.clear_missing, dry_run=args.dry_run)
    print(report.text())
    return 0 if report.written else 1
