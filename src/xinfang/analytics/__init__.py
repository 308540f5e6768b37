"""Analytics over the case history: accountability figures, backlog, buck-passing, heat maps, warnings."""
