"""讲话要点: the ranked talking points on a screen of their own (汇报模式 shows them large; the meeting cycle
can show this page: ?mode=present&cycle=30&pages=overview,talk)."""

from components import talking_points, widgets
from components.context import current

ctx = current()
if not ctx.present:
    widgets.region_path(ctx)
talking_points.panel(ctx, big=True)
