"""The in-plane orientation the grounding model was trained in: radiological display.

Rows run from the patient's anterior to posterior, columns from the patient's right to left
(the patient's right on the viewer's left). The engine and the training set builder turn each
axial slice ``array[:, :, k]`` into that view with `PlaneView.to_display` and map masks back
with `PlaneView.from_display`; left/right targets (``kidney_left``) depend on it. The view is
the one radiological view of `medsee_cli.io.plane_view` (the preview shows the same).
"""

from __future__ import annotations

from medsee_cli.io.plane_view import PlaneView, plane_view

__all__ = ["PlaneView", "plane_view"]
