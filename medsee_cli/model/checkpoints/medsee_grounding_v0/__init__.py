"""medsee-grounding-v0: config.json + model.safetensors (grounding head only) + training.json."""
