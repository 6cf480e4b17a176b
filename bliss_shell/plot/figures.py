"""The page's figures: the tools they offer, and ranges the browser keeps to itself.

The browser fits each figure's ranges to its data after every update; sent back, those
changes were ten messages to the viewer per update. Zooms still reach the viewer, as
``RangesUpdate`` events.

Examples
--------
>>> plot = live_figure(name="curve_linear", height=460, width=880)
>>> [type(tool).__name__ for tool in plot.tools], plot.x_range.syncable
(['PanTool', 'WheelZoomTool', 'BoxZoomTool', 'ResetTool', 'SaveTool', 'CrosshairTool'], False)
"""

from __future__ import annotations

from typing import Any

from bokeh.plotting import figure

TOOLS = "pan,wheel_zoom,box_zoom,reset,save,crosshair"


def live_figure(**options: Any) -> Any:
    """A Bokeh figure with ``TOOLS`` (unless ``tools`` is given) whose ranges are not synchronised back."""
    plot = figure(**{"tools": TOOLS, **options})
    plot.x_range.syncable = plot.y_range.syncable = False
    return plot
