"""Training the grounding head: labelled slices -> cached frozen features -> a trained head.

``recipe`` reads what to train on (the shipped recipe or a user's manifest), ``slices`` turns
each source into labelled display-oriented slices (real volumes, phantoms, synthetic lesions),
``cache`` encodes them once with the frozen LiteMedSAM, ``sampler`` draws (slice, target)
pairs, ``loop`` trains, ``evaluate`` scores held-out slices. Nothing here runs at inference.
"""
