"""Colours shared by the pages (components.shell.theme), the slides and the maps (data_access.report.charts,
classify)."""

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
# Sequential, light (good) to dark (needs attention); ColorBrewer YlOrRd is CVD-safe in lightness.
SEQUENTIAL = ["#FFFFB2", "#FECC5C", "#FD8D3C", "#F03B20", "#BD0026"]
GOOD, BAD, NEUTRAL = "#0072B2", "#D55E00", "#7F7F7F"
