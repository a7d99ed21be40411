"""medsee-grounding-v1: config.json + model.safetensors (grounding head only) + training.json."""
