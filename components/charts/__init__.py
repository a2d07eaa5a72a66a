"""Chart builders: the shared style (style.py), the heat-map matrix, the child-region ranking, the village
map, the money-flow Sankey and the charts of the registry subjects (causes and exits)."""
