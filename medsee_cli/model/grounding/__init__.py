"""The grounding model: frozen LiteMedSAM features + a trained text-conditioned head.

``GroundingModel.load("medsee-grounding-v1")`` (or a folder path) gives the object the engine
streams slices through; see ``model.py`` for the call sequence.
"""

from medsee_cli.model.grounding.config import GroundingConfig
from medsee_cli.model.grounding.model import GroundingModel
from medsee_cli.model.grounding.orientation import PlaneView, plane_view
from medsee_cli.model.grounding.outputs import Features, Grounding

__all__ = ["Features", "Grounding", "GroundingConfig", "GroundingModel", "PlaneView", "plane_view"]
