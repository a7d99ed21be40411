"""The picture-view network: model.safetensors + training.json (`medsee_cli.model.picture_view`)."""
