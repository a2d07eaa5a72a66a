"""From parsed sheets to the rows to write: one builder per sheet kind, validating across rows, sheets
and the database.

Builders run in ``ORDER`` (places before households before incomes...), so a reference is checked
against the file's valid rows and the database; each puts its rows into the batch's ``Plan``
(``importer.batch``). Nothing here writes; see ``importer.run.write_plan``.
"""

from __future__ import annotations

from .funds import build_arrangements, build_flows, build_funds, build_projects
from .help import build_helpers, build_measures, build_visits
from .incomes import build_incomes
from .monitoring import build_monitoring
from .persons import build_persons
from .places import build_lines, build_places, build_population, build_targets

BUILDERS = {
    "places": build_places, "population": build_population, "targets": build_targets, "lines": build_lines,
    "persons": build_persons,
    "incomes": build_incomes, "monitoring": build_monitoring, "helpers": build_helpers, "visits": build_visits,
    "measures": build_measures, "funds": build_funds, "projects": build_projects,
    "arrangements": build_arrangements, "flows": build_flows,
}
ORDER = ("places", "population", "targets", "lines", "persons", "incomes", "monitoring", "helpers", "visits",
         "measures", "funds", "projects", "arrangements", "flows")
