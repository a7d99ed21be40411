"""medsee: ask a CT or MR scan a question in plain words and get pixels back."""

__version__ = "0.1.0"
